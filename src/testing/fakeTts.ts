import { Observable } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';
import { shortId } from '../llm/ids.ts';
import type { ProviderCallOptions, SynthesizedAudio, TTS, TTSCapabilities } from '../providers/types.ts';

export interface FakeTTSResponse {
  input: string;
  /** ms from the end of the input text to the first audio. */
  ttfb?: number;
  /** Length of the audio, ms. */
  duration?: number;
  error?: Error;
}

/**
 * A streaming TTS that synthesizes only once its input text is complete (like a request/response engine),
 * answering from a script; unknown texts get `msPerChar` of audio. Audio is silence in 20 ms frames, all
 * delivered at `ttfb`: the audio output paces playback. `inputs` records every text received.
 */
export class FakeTTS implements TTS {
  readonly label = 'fake-tts';
  readonly numChannels = 1;
  readonly capabilities: TTSCapabilities = { streaming: true, alignedTranscript: false };
  readonly inputs: string[] = [];
  private readonly responses = new Map<string, FakeTTSResponse>();

  constructor(
    responses: FakeTTSResponse[] = [],
    readonly opts: { sampleRate?: number; msPerChar?: number; defaultTtfb?: number } = {},
  ) {
    for (const r of responses) this.responses.set(r.input, r);
  }

  get sampleRate(): number {
    return this.opts.sampleRate ?? 24000;
  }

  synthesize(text: string): Observable<SynthesizedAudio> {
    return this.audioFor(text);
  }

  stream(text$: Observable<string>, _opts?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return new Observable<SynthesizedAudio>((sub) => {
      let text = '';
      let inner: { unsubscribe(): void } | null = null;
      const outer = text$.subscribe({
        next: (t) => (text += t),
        error: (e) => sub.error(e),
        complete: () => {
          if (!text.trim()) return sub.complete();
          inner = this.audioFor(text).subscribe(sub);
        },
      });
      return () => {
        outer.unsubscribe();
        inner?.unsubscribe();
      };
    });
  }

  private audioFor(text: string): Observable<SynthesizedAudio> {
    return new Observable<SynthesizedAudio>((sub) => {
      this.inputs.push(text);
      const r = this.responses.get(text);
      const ttfb = r?.ttfb ?? this.opts.defaultTtfb ?? 0;
      const duration = r?.duration ?? text.length * (this.opts.msPerChar ?? 60);
      const emit = () => {
        if (r?.error) return sub.error(r.error);
        const rate = this.sampleRate;
        const perFrame = Math.round(rate / 50);
        const total = Math.round((rate * duration) / 1000);
        const requestId = shortId('tts_');
        for (let done = 0; done < total; ) {
          const n = Math.min(perFrame, total - done);
          done += n;
          sub.next({ frame: new AudioFrame(new Int16Array(n), rate, 1, n), requestId, final: done >= total });
        }
        sub.complete();
      };
      // A zero ttfb answers synchronously: timers clamp 0 to 1 ms, which would skew latency tests.
      if (ttfb <= 0) return void emit();
      const timer = setTimeout(emit, ttfb);
      return () => clearTimeout(timer);
    });
  }
}
