import { Observable, type Subscription } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import type { SpeechEvent, STT, STTCapabilities, STTStreamOptions, VAD } from '../providers/types.ts';

/**
 * Makes a request/response recognizer streaming: the VAD cuts the audio into utterances, each is recognized once
 * it ends, and events come out in utterance order (recognitions overlap, but a fast answer for a later utterance,
 * and that utterance's start, wait for the earlier utterance's final and end: one consistent timeline).
 *
 * Failures: the recognizer retries on its own and reports those retries through `onError(err, true)`; an utterance
 * that still fails ends the stream with that error (the session reports it and starts a new stream), after the
 * transcripts of the utterances before it. When the audio ends, the stream completes once every pending
 * utterance is recognized.
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
      const pending = new Set<AbortController>();
      let chain = Promise.resolve();
      let stopped = false;
      let vadSub: Subscription | undefined;
      const stop = () => {
        stopped = true;
        vadSub?.unsubscribe();
        for (const c of pending) c.abort();
      };
      // Steps run one after another on `chain`, so output order is utterance order whatever the answer order.
      const inOrder = (step: () => void | Promise<void>) => {
        chain = chain.then(async () => {
          if (!stopped) await step();
        });
      };

      vadSub = this.vad.stream(audio).subscribe({
        next: (ev) => {
          if (ev.type === 'start_of_speech') return inOrder(() => sub.next({ type: 'start_of_speech' }));
          if (ev.type !== 'end_of_speech') return;
          const frames = ev.frames ?? [];
          const samples = frames.reduce((n, f) => n + f.samplesPerChannel, 0);
          if (samples === 0) return inOrder(() => sub.next({ type: 'end_of_speech' }));
          const ac = new AbortController();
          pending.add(ac);
          const startedAt = performance.now();
          const audioDurationMs = frames.reduce((ms, f) => ms + f.durationMs, 0);
          // Started now, awaited in order: recognitions of consecutive utterances overlap.
          const result = this.stt.recognize!(frames, { ...opts, signal: ac.signal }).then(
            (r) => ({ ok: true as const, r, durationMs: performance.now() - startedAt }),
            (e: unknown) => ({ ok: false as const, e }),
          );
          inOrder(async () => {
            const out = await result;
            pending.delete(ac);
            if (stopped) return;
            if (!out.ok) {
              stop();
              return sub.error(out.e instanceof Error ? out.e : new Error(String(out.e)));
            }
            sub.next({ ...out.r, type: 'final_transcript', recognitionUsage: { audioDurationMs, durationMs: out.durationMs } });
            sub.next({ type: 'end_of_speech' });
          });
        },
        error: (e) =>
          inOrder(() => {
            stop();
            sub.error(e);
          }),
        complete: () => inOrder(() => sub.complete()),
      });
      return stop;
    });
  }
}
