/**
 * FallbackAdapter: several providers of one kind behind one interface. A provider that fails before producing
 * anything is marked unavailable and the next one serves this call and later ones. Recovery happens in the
 * background, so no user turn waits on a provider that may still be down: once `recoveryInterval` has passed since
 * its failure, the next call is also sent to the unavailable provider as a probe whose output is discarded (the
 * backup still answers the user); when the probe produces output the provider is available again and serves the
 * calls after it. A failure after output was produced is not hidden (the caller must not get a reply twice): it
 * propagates, except for streaming STT, which simply continues on the next recognizer. Streams cannot be replayed
 * as probes, so a streaming STT is tried again directly once its interval has passed.
 */
import { map, Observable, Subject } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';
import { resample } from '../audio/resample.ts';
import type { ChatChunk, LLM, LLMRequest, ProviderCallOptions, SpeechEvent, STT, STTCapabilities, STTStreamOptions, SynthesizedAudio, TTS, TTSCapabilities } from './types.ts';

export interface AvailabilityChange {
  label: string;
  available: boolean;
  error?: Error;
}

export interface FallbackOptions {
  /** ms after a failure (or a failed probe) before the provider is probed again (default 10 s). */
  recoveryInterval?: number;
}

interface Slot<P> {
  provider: P & { label: string };
  failedAt: number | null;
  probing: boolean;
}

type ErrorSink = (e: Error, recoverable: boolean) => void;
/** One provider call; `onError` receives the provider's own retry reports (a probe passes a sink that drops them). */
type Call<P, T> = (p: P, onError: ErrorSink | undefined) => Observable<T>;

const ignore: ErrorSink = () => {};

class FallbackCore<P extends { label: string }> {
  readonly slots: Slot<P>[];
  readonly availability$ = new Subject<AvailabilityChange>();
  private readonly recoveryInterval: number;

  constructor(providers: P[], opts: FallbackOptions) {
    if (!providers.length) throw new Error('FallbackAdapter needs at least one provider');
    this.slots = providers.map((provider) => ({ provider, failedAt: null, probing: false }));
    this.recoveryInterval = opts.recoveryInterval ?? 10_000;
  }

  private due(s: Slot<P>): boolean {
    return s.failedAt !== null && Date.now() - s.failedAt >= this.recoveryInterval;
  }

  /** Providers to try now, in order: the available ones (with `direct`, also those due for another try). */
  private candidates(direct: boolean): Slot<P>[] {
    const usable = this.slots.filter((s) => s.failedAt === null || (direct && this.due(s)));
    return usable.length ? usable : this.slots; // everything failed recently: try them all anyway
  }

  private markFailed(s: Slot<P>, error: Error): void {
    const wasAvailable = s.failedAt === null;
    s.failedAt = Date.now();
    if (wasAvailable) this.availability$.next({ label: s.provider.label, available: false, error });
  }

  private markWorking(s: Slot<P>): void {
    if (s.failedAt === null) return;
    s.failedAt = null;
    this.availability$.next({ label: s.provider.label, available: true });
  }

  /** Sends `call` to an unavailable provider in the background; its first output proves it works again. */
  private probe<T>(s: Slot<P>, call: Call<P, T>): void {
    s.probing = true;
    let done = false;
    const end = (ok: boolean) => {
      if (done) return;
      done = true;
      s.probing = false;
      if (ok) this.markWorking(s);
      else s.failedAt = Date.now(); // wait another interval before the next probe
      sub?.unsubscribe(); // aborts the request: the answer is not needed
    };
    let sub: { unsubscribe(): void } | undefined;
    sub = call(s.provider, ignore).subscribe({
      next: () => end(true),
      error: () => end(false),
      complete: () => end(true),
    });
    if (done) sub.unsubscribe();
  }

  /**
   * Runs `call` on the first provider that answers. `probe: false` (streams that cannot be replayed) retries an
   * unavailable provider directly once it is due instead of probing it in the background.
   */
  run<T>(call: Call<P, T>, opts: { switchMidStream?: boolean; probe?: boolean; onError?: ErrorSink } = {}): Observable<T> {
    const probe = opts.probe ?? true;
    return new Observable<T>((out) => {
      const queue = this.candidates(!probe);
      if (probe) for (const s of this.slots) if (!s.probing && this.due(s) && !queue.includes(s)) this.probe(s, call);
      let current: { unsubscribe(): void } | null = null;
      let closed = false;
      const next = (i: number, lastError?: Error) => {
        if (closed) return;
        const slot = queue[i];
        if (!slot) return out.error(lastError ?? new Error('no provider answered'));
        let emitted = false;
        current = call(slot.provider, opts.onError).subscribe({
          next: (v) => {
            if (!emitted) this.markWorking(slot);
            emitted = true;
            out.next(v);
          },
          error: (e: unknown) => {
            const err = e instanceof Error ? e : new Error(String(e));
            this.markFailed(slot, err);
            if (emitted && !opts.switchMidStream) return out.error(err);
            opts.onError?.(new Error(`${slot.provider.label} failed, switching to the next provider: ${err.message}`, { cause: err }), true);
            next(i + 1, err);
          },
          complete: () => {
            this.markWorking(slot);
            out.complete();
          },
        });
      };
      next(0);
      return () => {
        closed = true;
        current?.unsubscribe();
      };
    });
  }
}

export class FallbackLLM implements LLM {
  readonly label: string;
  readonly model: string;
  private readonly core: FallbackCore<LLM>;
  constructor(providers: LLM[], opts: FallbackOptions = {}) {
    this.core = new FallbackCore(providers, opts);
    this.label = `fallback(${providers.map((p) => p.label).join(', ')})`;
    this.model = providers[0]!.model;
  }
  get availability$() {
    return this.core.availability$.asObservable();
  }
  chat(req: LLMRequest): Observable<ChatChunk> {
    return this.core.run((p, onError) => p.chat({ ...req, onError }), { onError: req.onError });
  }
}

export class FallbackSTT implements STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;
  private readonly core: FallbackCore<STT>;
  constructor(providers: STT[], opts: FallbackOptions = {}) {
    this.core = new FallbackCore(providers, opts);
    this.label = `fallback(${providers.map((p) => p.label).join(', ')})`;
    // Streaming only if all are: the session wraps non-streaming recognizers with a VAD adapter.
    this.capabilities = {
      streaming: providers.every((p) => p.capabilities.streaming),
      interimResults: providers.every((p) => p.capabilities.interimResults),
    };
    if (!this.capabilities.streaming && !providers.every((p) => p.recognize)) {
      throw new Error('FallbackSTT: mix streaming and batch recognizers only if every one can recognize()');
    }
  }
  get availability$() {
    return this.core.availability$.asObservable();
  }
  stream(audio: Observable<AudioFrame>, opts?: STTStreamOptions): Observable<SpeechEvent> {
    return this.core.run((p, onError) => p.stream(audio, { ...opts, onError }), { switchMidStream: true, probe: false, onError: opts?.onError });
  }
  recognize(frames: AudioFrame[], opts?: STTStreamOptions & { signal?: AbortSignal }): Promise<SpeechEvent> {
    return new Promise((resolve, reject) => {
      let got: SpeechEvent | undefined;
      this.core
        .run((p, onError) => new Observable<SpeechEvent>((sub) => void p.recognize!(frames, { ...opts, onError }).then((r) => (sub.next(r), sub.complete()), (e) => sub.error(e))), { onError: opts?.onError })
        .subscribe({ next: (r) => (got = r), error: reject, complete: () => resolve(got!) });
    });
  }
}

export class FallbackTTS implements TTS {
  readonly label: string;
  readonly sampleRate: number;
  readonly numChannels: number;
  readonly capabilities: TTSCapabilities = { streaming: false, alignedTranscript: false };
  private readonly core: FallbackCore<TTS>;
  constructor(providers: TTS[], opts: FallbackOptions = {}) {
    this.core = new FallbackCore(providers, opts);
    this.label = `fallback(${providers.map((p) => p.label).join(', ')})`;
    this.sampleRate = providers[0]!.sampleRate;
    this.numChannels = providers[0]!.numChannels;
  }
  get availability$() {
    return this.core.availability$.asObservable();
  }
  /** Audio of every provider comes out at the first provider's rate, so the output sees one format. */
  synthesize(text: string, opts?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return this.core.run(
      (p, onError) => {
        const audio = p.synthesize(text, { ...opts, onError });
        return p.sampleRate === this.sampleRate ? audio : toRate(audio, this.sampleRate);
      },
      { onError: opts?.onError },
    );
  }
}

function toRate(audio: Observable<SynthesizedAudio>, rate: number): Observable<SynthesizedAudio> {
  let requestId: string | undefined;
  return audio.pipe(
    map((a) => ((requestId ??= a.requestId), a.frame)),
    resample(rate),
    map((frame) => ({ frame, requestId })),
  );
}
