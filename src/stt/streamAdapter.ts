import { Observable } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import type { SpeechEvent, STT, STTCapabilities, STTStreamOptions, VAD } from '../providers/types.ts';

/**
 * Makes a request/response recognizer streaming: the VAD cuts the audio into utterances, each is recognized once
 * it ends, and transcripts come out in utterance order.
 */
export class STTStreamAdapter implements STT {
  readonly label: string;
  readonly capabilities: STTCapabilities = { streaming: true, interimResults: false };

  constructor(
    readonly stt: STT,
    readonly vad: VAD,
  ) {
    if (!stt.recognize) throw new Error(`${stt.label} has no recognize(): cannot wrap it`);
    this.label = stt.label;
  }

  stream(audio: Observable<AudioFrame>, opts?: STTStreamOptions): Observable<SpeechEvent> {
    return new Observable<SpeechEvent>((sub) => {
      const controllers = new Set<AbortController>();
      let chain = Promise.resolve();
      const vadSub = this.vad.stream(audio).subscribe({
        next: (ev) => {
          if (ev.type === 'start_of_speech') sub.next({ type: 'start_of_speech' });
          if (ev.type !== 'end_of_speech') return;
          const ac = new AbortController();
          controllers.add(ac);
          const result = this.stt.recognize!(ev.frames ?? [], { ...opts, signal: ac.signal });
          chain = chain.then(async () => {
            try {
              const r = await result;
              if (!ac.signal.aborted) sub.next({ ...r, type: 'final_transcript' });
            } catch (e) {
              if (!ac.signal.aborted) opts?.onError?.(e as Error, true);
            } finally {
              controllers.delete(ac);
              if (!ac.signal.aborted) sub.next({ type: 'end_of_speech' });
            }
          });
        },
        error: (e) => sub.error(e),
      });
      return () => {
        vadSub.unsubscribe();
        for (const c of controllers) c.abort();
      };
    });
  }
}
