/** The agent side of the room tests: real Silero VAD, a scripted recogniser on top of it, FakeLLM, Flite TTS. */
import { Observable } from 'rxjs';
import type { AudioFrame } from '../../../src/audio/frame.ts';
import type { SpeechEvent, STT, VAD, VADEvent } from '../../../src/providers/types.ts';

/**
 * A streaming STT whose words are scripted but whose timing is real: it runs its own VAD stream over the audio it
 * is given, sends one interim (the first word) once 300 ms of speech were heard, and the next scripted transcript
 * when the VAD ends the utterance. So user transcripts follow what the participant actually said, when they said it.
 */
export class VadScriptedSTT implements STT {
  readonly label = 'scripted-stt';
  readonly capabilities = { streaming: true, interimResults: true };
  /** Epoch ms of each end of speech the recogniser saw. */
  readonly endsOfSpeech: number[] = [];
  private next = 0;

  constructor(
    private readonly vad: VAD,
    private readonly transcripts: string[],
    /** Sees every VAD event with the wall time since the stream's first frame (benchmarks measure lag with it). */
    private readonly onVadEvent?: (ev: VADEvent, sinceFirstFrameMs: number) => void,
  ) {}

  stream(audio: Observable<AudioFrame>): Observable<SpeechEvent> {
    return new Observable<SpeechEvent>((sub) => {
      let speaking = false;
      let interim = false;
      let first: number | null = null;
      const tapped = new Observable<AudioFrame>((o) => audio.subscribe({ next: (f) => ((first ??= performance.now()), o.next(f)), error: (e) => o.error(e), complete: () => o.complete() }));
      const s = this.vad.stream(tapped).subscribe({
        next: (ev) => {
          this.onVadEvent?.(ev, first === null ? 0 : performance.now() - first);
          const text = this.transcripts[this.next % this.transcripts.length] ?? '';
          if (ev.type === 'start_of_speech') {
            speaking = true;
            interim = false;
            sub.next({ type: 'start_of_speech' });
          } else if (ev.type === 'inference_done' && speaking && !interim && ev.speechDuration >= 300) {
            interim = true;
            sub.next({ type: 'interim_transcript', alternatives: [{ text: text.split(' ')[0]! }] });
          } else if (ev.type === 'end_of_speech') {
            speaking = false;
            this.next++;
            this.endsOfSpeech.push(Date.now());
            sub.next({ type: 'final_transcript', alternatives: [{ text }] });
            sub.next({ type: 'end_of_speech' });
          }
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
      return () => s.unsubscribe();
    });
  }
}
