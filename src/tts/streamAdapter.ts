import { Observable, type Subscription } from 'rxjs';
import { shortId } from '../llm/ids.ts';
import type { ProviderCallOptions, SynthesizedAudio, TTS, TTSCapabilities } from '../providers/types.ts';
import { splitSentences, type SentenceOptions } from '../tokenize/sentences.ts';

type StreamingTTS = TTS & { stream: NonNullable<TTS['stream']> };

/**
 * Gives a request/response TTS a `stream()`: text is split into sentences and each is synthesized as soon as it
 * is complete, so the first audio does not wait for the whole reply. Up to `lookahead` sentences synthesize ahead
 * of the one playing; audio always comes out in sentence order.
 */
export class TTSStreamAdapter implements StreamingTTS {
  readonly label: string;
  readonly capabilities: TTSCapabilities;

  constructor(
    readonly inner: TTS,
    readonly opts: SentenceOptions & { lookahead?: number } = {},
  ) {
    this.label = inner.label;
    this.capabilities = { ...inner.capabilities, streaming: true };
  }

  get sampleRate(): number {
    return this.inner.sampleRate;
  }
  get numChannels(): number {
    return this.inner.numChannels;
  }

  synthesize(text: string, opts?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return this.inner.synthesize(text, opts);
  }

  stream(text$: Observable<string>, opts?: ProviderCallOptions): Observable<SynthesizedAudio> {
    const lookahead = Math.max(1, this.opts.lookahead ?? 2);
    return new Observable<SynthesizedAudio>((sub) => {
      interface Job {
        segmentId: string;
        frames: SynthesizedAudio[];
        done: boolean;
        /** The first frame goes out at once; later ones one behind, so the last can be marked final. */
        emitted: boolean;
        sub: Subscription | null;
      }
      const jobs: Job[] = [];
      const waiting: string[] = [];
      let inputDone = false;
      let closed = false;
      const fail = (e: unknown) => {
        if (closed) return;
        closed = true;
        sub.error(e);
      };
      const startMore = () => {
        while (waiting.length && jobs.length < lookahead) {
          const text = waiting.shift()!;
          const job: Job = { segmentId: shortId('SG_'), frames: [], done: false, emitted: false, sub: null };
          jobs.push(job);
          job.sub = this.inner.synthesize(text, opts).subscribe({
            next: (a) => {
              job.frames.push(a);
              pump();
            },
            error: fail,
            complete: () => {
              job.done = true;
              pump();
              startMore();
            },
          });
        }
      };
      // Emits the head job's frames in order; a sentence's last frame is known only once it completes.
      const pump = () => {
        while (!closed && jobs.length) {
          const head = jobs[0]!;
          const keep = head.done || !head.emitted ? 0 : 1;
          while (head.frames.length > keep) {
            const a = head.frames.shift()!;
            const last = head.done && head.frames.length === 0;
            sub.next({ ...a, segmentId: head.segmentId, final: last });
            if (!head.done && !head.emitted) {
              head.emitted = true;
              break; // from now on keep one frame back
            }
          }
          if (!head.done) return;
          jobs.shift();
        }
        if (!closed && inputDone && !waiting.length && !jobs.length) {
          closed = true;
          sub.complete();
        }
      };
      const input = text$.pipe(splitSentences(this.opts)).subscribe({
        next: (sentence) => {
          waiting.push(sentence);
          startMore();
        },
        error: fail,
        complete: () => {
          inputDone = true;
          pump();
        },
      });
      return () => {
        closed = true;
        input.unsubscribe();
        for (const j of jobs) j.sub?.unsubscribe();
      };
    });
  }
}

/** The TTS itself when it streams, else wrapped in the sentence-tokenizing adapter. */
export function streamingTTS(tts: TTS): StreamingTTS {
  return tts.stream ? (tts as StreamingTTS) : new TTSStreamAdapter(tts);
}
