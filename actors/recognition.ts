import { share, type Observable, type Subscription } from 'rxjs';
import { fromCallback, type EventObject } from 'xstate';
import type { AudioFrame } from '../src/audio/frame.ts';
import type { SpeechEvent, STT, VADEvent, VAD } from '../src/providers/types.ts';

/** What recognition tells the activity: semantic events only, never frames. */
export type RecognitionEvent =
  | { type: 'vad'; event: VADEvent }
  | { type: 'stt'; event: SpeechEvent }
  | { type: 'error'; source: 'vad' | 'stt' | 'audio_input'; error: Error; recoverable: boolean };

export interface RecognitionInput {
  audio: Observable<AudioFrame>;
  vad: VAD | null;
  stt: STT | null;
  deliver: (e: RecognitionEvent) => void;
  /** Gates audio to the STT (e.g. silence while an uninterruptible speech plays); VAD always hears everything. */
  sttAudio?: (audio: Observable<AudioFrame>) => Observable<AudioFrame>;
}

const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));

/**
 * Fans one audio stream out to the VAD and the STT and turns their output into recognition events.
 * A failing VAD or STT is reported and detached; the other keeps running, and so does the session.
 */
export function runRecognition({ audio, vad, stt, deliver, sttAudio }: RecognitionInput): Subscription {
  const shared = audio.pipe(share());
  const subs: Subscription[] = [];
  if (vad) {
    subs.push(
      vad.stream(shared).subscribe({
        next: (event) => deliver({ type: 'vad', event }),
        error: (e) => deliver({ type: 'error', source: 'vad', error: asError(e), recoverable: false }),
      }),
    );
  }
  if (stt) {
    subs.push(
      stt.stream(sttAudio ? sttAudio(shared) : shared, {
        onError: (error, recoverable) => deliver({ type: 'error', source: 'stt', error, recoverable }),
      }).subscribe({
        next: (event) => deliver({ type: 'stt', event }),
        error: (e) => deliver({ type: 'error', source: 'stt', error: asError(e), recoverable: false }),
      }),
    );
  }
  // Keep the source flowing even with neither consumer, and report its failure once.
  subs.push(shared.subscribe({ error: (e) => deliver({ type: 'error', source: 'audio_input', error: asError(e), recoverable: false }) }));
  const all = subs[0]!;
  for (const s of subs.slice(1)) all.add(s);
  return all;
}

/** Recognition as an actor: stopping it unsubscribes from the audio, the VAD and the STT. */
export const recognitionActor = fromCallback<EventObject, RecognitionInput>(({ input }) => {
  const sub = runRecognition(input);
  return () => sub.unsubscribe();
});
