import type { Observable } from 'rxjs';
import { fromPromise } from 'xstate';
import type { AudioFrame } from '../src/audio/frame.ts';
import type { AudioOutput } from '../src/io/types.ts';

export interface PlayoutInput {
  audio: Observable<AudioFrame>;
  output: AudioOutput;
  /** Called once, when the output reports the segment's first audible frame. */
  onPlaybackStarted: (at: number) => void;
  onFrame?: (frame: AudioFrame) => void;
}

export interface PlayoutResult {
  /** At least one frame reached the output. */
  pushed: boolean;
  playbackStartedAt: number | null;
  /** Date.now() when the first frame was handed to the output. */
  firstFrameAt: number | null;
  interrupted: boolean;
  /** ms of the segment that was heard. */
  positionMs: number;
  pushedMs: number;
  synchronizedTranscript?: string;
  /** The audio stream failed; what was pushed before the failure still played. */
  error?: Error;
}

/**
 * Plays one segment: pushes frames to the output as they arrive and settles on the output's `playback_finished`.
 * Aborting (stopping the actor) interrupts: the audio stream is cancelled and the output's buffer cleared.
 */
export function playSegment({ audio, output, onPlaybackStarted, onFrame }: PlayoutInput, signal: AbortSignal): Promise<PlayoutResult> {
  return new Promise((resolve) => {
    let frames = 0;
    let pushedMs = 0;
    let startedAt: number | null = null;
    let settled = false;
    let error: Error | undefined;
    let firstFrameAt: number | null = null;
    const finish = (r: Omit<PlayoutResult, 'pushed' | 'pushedMs' | 'playbackStartedAt' | 'firstFrameAt'>) => {
      if (settled) return;
      settled = true;
      events.unsubscribe();
      audioSub?.unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve({ ...r, pushed: frames > 0, pushedMs, playbackStartedAt: startedAt, firstFrameAt, ...(error ? { error } : {}) });
    };
    const events = output.events$.subscribe((ev) => {
      if (frames === 0) return;
      if (ev.type === 'playback_started') {
        if (startedAt === null) {
          startedAt = ev.createdAt;
          onPlaybackStarted(ev.createdAt);
        }
      } else {
        finish({ interrupted: ev.interrupted || signal.aborted, positionMs: ev.playbackPosition, synchronizedTranscript: ev.synchronizedTranscript });
      }
    });
    const onAbort = () => {
      audioSub?.unsubscribe();
      if (frames === 0) finish({ interrupted: true, positionMs: 0 });
      else output.clearBuffer();
    };
    signal.addEventListener('abort', onAbort);
    let audioSub: { unsubscribe(): void } | undefined;
    audioSub = audio.subscribe({
      next: (frame) => {
        if (signal.aborted || settled) return;
        if (frames++ === 0) firstFrameAt = Date.now();
        pushedMs += frame.durationMs;
        onFrame?.(frame);
        output.captureFrame(frame);
      },
      error: (e: unknown) => {
        error = e instanceof Error ? e : new Error(String(e));
        if (frames === 0) finish({ interrupted: false, positionMs: 0 });
        else output.flush();
      },
      complete: () => {
        if (frames === 0) finish({ interrupted: false, positionMs: 0 });
        else output.flush();
      },
    });
    if (signal.aborted) onAbort();
  });
}

/** The same as an actor: stopping it interrupts the segment. */
export const playoutActor = fromPromise<PlayoutResult, PlayoutInput>(({ input, signal }) => playSegment(input, signal));
