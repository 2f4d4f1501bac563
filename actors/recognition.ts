import { defer, EMPTY, repeat, retry, share, tap, timer, type Observable, type Subscription } from 'rxjs';
import { fromCallback, type EventObject } from 'xstate';
import type { AudioFrame } from '../src/audio/frame.ts';
import type { SpeechEvent, STT, STTStreamOptions, VADEvent, VAD } from '../src/providers/types.ts';

/** What recognition tells the activity: semantic events only, never frames. */
export type RecognitionEvent =
  | { type: 'vad'; event: VADEvent }
  | { type: 'stt'; event: SpeechEvent }
  /** At each final transcript: the audio recognised since the previous one (streamed: all audio sent to the STT). */
  | { type: 'stt_usage'; audioDurationMs: number; durationMs: number; streamed: boolean }
  | { type: 'error'; source: 'vad' | 'stt' | 'audio_input'; error: Error; recoverable: boolean };

export interface RecognitionInput {
  audio: Observable<AudioFrame>;
  vad: VAD | null;
  stt: STT | null;
  /** The agent's own `sttNode` in place of `stt.stream` (undefined: the STT itself). */
  sttNode?: (audio: Observable<AudioFrame>, opts: STTStreamOptions) => Observable<SpeechEvent>;
  deliver: (e: RecognitionEvent) => void;
  /** Gates audio to the STT (e.g. silence while an uninterruptible speech plays); VAD always hears everything. */
  sttAudio?: (audio: Observable<AudioFrame>) => Observable<AudioFrame>;
  /** ms before a failed VAD or STT stream is started again (default 500). */
  restartDelay?: number;
}

/** Longest wait between two restarts of a failing recognition stream, ms. */
const MAX_RESTART_DELAY = 10_000;

const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/**
 * Fans one audio stream out to the VAD and the STT and turns their output into recognition events.
 * A failing VAD or STT is reported and detached; the other keeps running, and so does the session.
 */
export function runRecognition({ audio, vad, stt, sttNode, deliver, sttAudio, restartDelay = 500 }: RecognitionInput): Subscription {
  const shared = audio.pipe(share());
  // A failed VAD or STT stream is reported (it counts toward the session's error limit) and started again, so the
  // session keeps hearing the user; the audio in between is not recognised.
  // A stream that completes would leave the session deaf: it is reported and started again too. Restarts back off
  // (restartDelay, doubling, at most 10 s) until the stream delivers something again.
  // Once the input itself has ended (a file played out) there is nothing left to hear: no restart, which would also
  // subscribe to the input again and replay it.
  let inputEnded = false;
  let vadSpeaking = false;
  const restarting = <T>(source: 'vad' | 'stt', make: () => Observable<T>) => {
    let attempts = 0;
    const backoff = () => timer(Math.min(restartDelay * 2 ** attempts++, MAX_RESTART_DELAY));
    return defer(make).pipe(
      tap(() => (attempts = 0)),
      repeat({
        delay: () => {
          if (inputEnded) return EMPTY;
          const error = new Error(`the ${source.toUpperCase()} stream ended; recognition restarts it`);
          deliver({ type: 'error', source, error, recoverable: true });
          return backoff();
        },
      }),
      retry({
        delay: (e: unknown) => {
          deliver({ type: 'error', source, error: asError(e), recoverable: false });
          return inputEnded ? EMPTY : backoff();
        },
      }),
    );
  };
  const all = shared.subscribe({
    // Keep the source flowing even with neither consumer, and report its failure once.
    error: (e) => deliver({ type: 'error', source: 'audio_input', error: asError(e), recoverable: false }),
    complete: () => (inputEnded = true),
  });
  if (vad) {
    all.add(
      restarting('vad', () => vad.stream(shared)).subscribe({
        next: (event) => {
          if (event.type === 'start_of_speech') vadSpeaking = true;
          else if (event.type === 'end_of_speech') vadSpeaking = false;
          deliver({ type: 'vad', event });
        },
        // The input ended mid-speech and the VAD said nothing more: the user is not speaking any longer.
        complete: () => {
          if (!vadSpeaking) return;
          vadSpeaking = false;
          deliver({ type: 'vad', event: { type: 'end_of_speech', timestamp: Date.now(), speechDuration: 0, silenceDuration: 0, inferenceDuration: 0, probability: 0, speaking: false, frames: [] } as unknown as VADEvent });
        },
      }),
    );
  }
  if (stt) {
    // A streaming STT is paid for all the audio it is sent; count it on its way in (a sum, not an event per frame).
    let sentMs = 0;
    const input = (sttAudio ? sttAudio(shared) : shared).pipe(tap((f) => (sentMs += f.durationMs)));
    const onError = (error: Error, recoverable: boolean) => deliver({ type: 'error', source: 'stt', error, recoverable });
    all.add(
      restarting('stt', () => (sttNode ? sttNode(input, { onError }) : stt.stream(input, { onError }))).subscribe((event) => {
        deliver({ type: 'stt', event });
        if (event.type !== 'final_transcript') return;
        const u = event.recognitionUsage;
        deliver(u ? { type: 'stt_usage', ...u, streamed: false } : { type: 'stt_usage', audioDurationMs: sentMs, durationMs: 0, streamed: true });
        sentMs = 0;
      }),
    );
  }
  return all;
}

/** Recognition as an actor: stopping it unsubscribes from the audio, the VAD and the STT. */
export const recognitionActor = fromCallback<EventObject, RecognitionInput>(({ input }) => {
  const sub = runRecognition(input);
  return () => sub.unsubscribe();
});
