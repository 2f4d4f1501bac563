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

/** A segment being played: `interrupt()` stops it (idempotent); `done` settles once the output is done with it. */
export interface PlayingSegment {
  readonly done: Promise<PlayoutResult>;
  interrupt(): void;
}

/**
 * Plays one segment: pushes frames to the output as they arrive and settles on the output's `playback_finished`.
 * `interrupt()` cancels the audio stream and clears the output's buffer. A direct call, not an AbortSignal: on the
 * barge-in path an abort() builds a DOMException (a stack trace) and dispatches a DOM event, about a third of
 * barge-in → output cleared (bench core).
 */
export function startSegment({ audio, output, onPlaybackStarted, onFrame }: PlayoutInput, signal?: AbortSignal): PlayingSegment {
  let resolve!: (r: PlayoutResult) => void;
  const done = new Promise<PlayoutResult>((r) => (resolve = r));
  let frames = 0;
  let pushedMs = 0;
  let startedAt: number | null = null;
  let settled = false;
  let interrupted = false;
  let error: Error | undefined;
  let firstFrameAt: number | null = null;
  let audioSub: { unsubscribe(): void } | undefined;
  const finish = (r: Omit<PlayoutResult, 'pushed' | 'pushedMs' | 'playbackStartedAt' | 'firstFrameAt'>) => {
    if (settled) return;
    settled = true;
    events.unsubscribe();
    audioSub?.unsubscribe();
    signal?.removeEventListener('abort', interrupt);
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
      finish({ interrupted: ev.interrupted || interrupted, positionMs: ev.playbackPosition, synchronizedTranscript: ev.synchronizedTranscript });
    }
  });
  const interrupt = () => {
    if (interrupted || settled) return;
    interrupted = true;
    audioSub?.unsubscribe();
    if (frames === 0) finish({ interrupted: true, positionMs: 0 });
    else output.clearBuffer();
  };
  if (signal?.aborted) {
    interrupt(); // cancelled before it started: the audio is never requested
    return { done, interrupt };
  }
  signal?.addEventListener('abort', interrupt);
  audioSub = audio.subscribe({
    next: (frame) => {
      if (interrupted || settled) return;
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
  if (interrupted) audioSub.unsubscribe(); // interrupted from inside the first frames, before subscribe returned
  return { done, interrupt };
}

/**
 * `startSegment` driven by an AbortSignal: aborting interrupts the segment. Abort it with a reason
 * (`ac.abort(reason)`): a bare abort() builds a DOMException with a stack trace on the barge-in path.
 */
export function playSegment(input: PlayoutInput, signal: AbortSignal): Promise<PlayoutResult> {
  return startSegment(input, signal).done;
}

/** The same as an actor: stopping it interrupts the segment. */
export const playoutActor = fromPromise<PlayoutResult, PlayoutInput>(({ input, signal }) => playSegment(input, signal));
