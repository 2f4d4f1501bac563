/**
 * FallbackAdapter: several providers of one kind behind one interface. A provider that fails before producing
 * anything is marked unavailable and the next one serves this call and later ones. Recovery happens in the
 * background, so no user turn waits on a provider that may still be down: once `recoveryInterval` has passed since
 * its failure, the next call is also sent to the unavailable provider as a probe whose output is discarded (the
 * backup still answers the user); when the probe produces output the provider is available again and serves the
 * calls after it. A failure after output was produced is not hidden (the caller must not get a reply twice): it
 * propagates, except for streaming STT, which simply continues on the next recognizer; there the probe is a second
 * stream on the same live audio, which takes over at an utterance boundary once it has transcribed something.
 */
import { map, Observable, Subject, type Subscription } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';
import { resample } from '../audio/resample.ts';
import type { APIConnectOptions } from './retry.ts';
import type { ChatChunk, LLM, LLMRequest, ProviderCallOptions, SpeechEvent, STT, STTCapabilities, STTStreamOptions, SynthesizedAudio, TTS, TTSCapabilities } from './types.ts';

export interface AvailabilityChange {
  label: string;
  available: boolean;
  error?: Error;
}

export interface FallbackOptions {
  /** ms after a failure (or a failed probe) before the provider is probed again (default 10 s). */
  recoveryInterval?: number;
  /**
   * Each provider's connection options inside the adapter, so that a dead provider costs seconds, not its full
   * retry budget, before the next one answers: ms for an attempt to produce its first value (default 5 s for LLMs,
   * 10 s for STT and TTS)…
   */
  attemptTimeout?: number;
  /** …retries on the same provider before moving on (default 0)… */
  maxRetryPerProvider?: number;
  /** …and ms between them (default 500). */
  retryInterval?: number;
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
  readonly recoveryInterval: number;
  /** The connection options every provider is called with inside the adapter. */
  readonly conn: Partial<APIConnectOptions>;

  constructor(providers: P[], opts: FallbackOptions, defaultAttemptTimeout: number) {
    if (!providers.length) throw new Error('FallbackAdapter needs at least one provider');
    this.slots = providers.map((provider) => ({ provider, failedAt: null, probing: false }));
    this.recoveryInterval = opts.recoveryInterval ?? 10_000;
    this.conn = { timeout: opts.attemptTimeout ?? defaultAttemptTimeout, maxRetry: opts.maxRetryPerProvider ?? 0, retryInterval: opts.retryInterval ?? 500 };
  }

  private due(s: Slot<P>): boolean {
    return s.failedAt !== null && Date.now() - s.failedAt >= this.recoveryInterval;
  }

  /** Providers to try now, in order: the available ones. */
  private candidates(): Slot<P>[] {
    const usable = this.slots.filter((s) => s.failedAt === null);
    return usable.length ? usable : this.slots; // everything failed recently: try them all anyway
  }

  markFailed(s: Slot<P>, error: Error): void {
    const wasAvailable = s.failedAt === null;
    s.failedAt = Date.now();
    if (wasAvailable) this.availability$.next({ label: s.provider.label, available: false, error });
  }

  markWorking(s: Slot<P>): void {
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

  /** Runs a one-shot `call` on the first provider that answers, probing due unavailable ones on the side. */
  run<T>(call: Call<P, T>, opts: { onError?: ErrorSink } = {}): Observable<T> {
    return new Observable<T>((out) => {
      const queue = this.candidates();
      for (const s of this.slots) if (!s.probing && this.due(s) && !queue.includes(s)) this.probe(s, call);
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
            if (emitted) return out.error(err);
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
    this.core = new FallbackCore(providers, opts, 5000);
    this.label = `fallback(${providers.map((p) => p.label).join(', ')})`;
    this.model = providers[0]!.model;
  }
  get availability$() {
    return this.core.availability$.asObservable();
  }
  chat(req: LLMRequest): Observable<ChatChunk> {
    return this.core.run((p, onError) => p.chat({ ...req, connOptions: this.core.conn, onError }), { onError: req.onError });
  }
}

export class FallbackSTT implements STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;
  private readonly core: FallbackCore<STT>;
  constructor(providers: STT[], opts: FallbackOptions = {}) {
    this.core = new FallbackCore(providers, opts, 10_000);
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
  /**
   * One live recognition over the (hot) audio. A recognizer that fails hands over to the next available one at
   * once. While a preferred recognizer is unavailable, it is probed every `recoveryInterval` with a second stream on
   * the same audio, whose events are dropped; once the probe has produced a final transcript it takes over, at the
   * next utterance boundary of the stream in use (after its final transcript), so no utterance is cut in two.
   */
  stream(audio: Observable<AudioFrame>, opts?: STTStreamOptions): Observable<SpeechEvent> {
    const core = this.core;
    return new Observable<SpeechEvent>((out) => {
      type Live = { slot: (typeof core.slots)[number]; sub: Subscription | null; proven: boolean };
      let active: Live | null = null;
      let probe: Live | null = null;
      let probeTimer: ReturnType<typeof setTimeout> | null = null;
      let closed = false;
      const rank = (l: Live) => core.slots.indexOf(l.slot);

      /** Starts a stream on `slot` as the active one or the probe (assigned before subscribing: events may be synchronous). */
      const open = (slot: Live['slot'], role: 'active' | 'probe'): void => {
        const live: Live = { slot, sub: null, proven: false };
        if (role === 'active') active = live;
        else probe = live;
        // A probe's own retry reports are dropped; once it has taken over they are the session's.
        const onError: ErrorSink = (e, recoverable) => live === active && opts?.onError?.(e, recoverable);
        const sub = slot.provider.stream(audio, { ...opts, connOptions: core.conn, onError }).subscribe({
          // Routed by what the stream is now: a probe that took over is the active one.
          next: (e) => (live === active ? onActiveEvent(live, e) : onProbeEvent(live, e)),
          error: (e: unknown) => (live === active ? onActiveFail : onProbeFail)(live, e instanceof Error ? e : new Error(String(e))),
          complete: () => {
            if (live === active && !closed) {
              closed = true;
              stopProbe();
              out.complete();
            } else if (live === probe) onProbeFail(live);
          },
        });
        if (live === active || live === probe) live.sub = sub;
        else sub.unsubscribe(); // it already ended or was replaced
      };
      const stopProbe = () => {
        if (probeTimer) clearTimeout(probeTimer);
        probeTimer = null;
        probe?.sub?.unsubscribe();
        probe = null;
      };
      /** Probes the best unavailable recognizer ranked above the active one, when it is due. */
      const scheduleProbe = () => {
        if (closed || probe || probeTimer || !active) return;
        const target = core.slots.slice(0, rank(active)).find((s) => s.failedAt !== null);
        if (!target) return;
        const wait = Math.max(0, core.recoveryInterval - (Date.now() - target.failedAt!));
        probeTimer = setTimeout(() => {
          probeTimer = null;
          if (closed || target.failedAt === null) return scheduleProbe();
          open(target, 'probe');
        }, wait);
      };
      const handOver = () => {
        const next = probe!;
        probe = null;
        active?.sub?.unsubscribe();
        active = next;
        scheduleProbe(); // a recognizer ranked higher still may be down
      };
      const onActiveEvent = (l: Live, e: SpeechEvent) => {
        if (l !== active || closed) return;
        if (!l.proven) core.markWorking(l.slot);
        l.proven = true;
        out.next(e);
        if (e.type === 'final_transcript' && probe?.proven) handOver();
      };
      const onActiveFail = (l: Live, err: Error) => {
        if (l !== active || closed) return;
        core.markFailed(l.slot, err);
        opts?.onError?.(new Error(`${l.slot.provider.label} failed, switching to the next provider: ${err.message}`, { cause: err }), true);
        if (probe?.proven) return handOver();
        const next = core.slots.find((s) => s !== l.slot && s.failedAt === null && s !== probe?.slot) ?? null;
        if (!next) {
          closed = true;
          stopProbe();
          return out.error(err);
        }
        open(next, 'active');
        scheduleProbe();
      };
      const onProbeEvent = (l: Live, e: SpeechEvent) => {
        if (l !== probe || closed) return;
        if (active && rank(l) >= rank(active)) return stopProbe(); // the active one is at least as good now
        if (e.type !== 'final_transcript' || l.proven) return;
        l.proven = true;
        core.markWorking(l.slot);
      };
      const onProbeFail = (l: Live, _err?: Error) => {
        if (l !== probe) return;
        probe = null;
        l.slot.failedAt = Date.now(); // another interval before the next probe
        scheduleProbe();
      };

      const first = core.slots.find((s) => s.failedAt === null) ?? core.slots[0]!;
      open(first, 'active');
      scheduleProbe();
      return () => {
        closed = true;
        stopProbe();
        active?.sub?.unsubscribe();
      };
    });
  }

  recognize(frames: AudioFrame[], opts?: STTStreamOptions & { signal?: AbortSignal }): Promise<SpeechEvent> {
    return new Promise((resolve, reject) => {
      let got: SpeechEvent | undefined;
      this.core
        .run((p, onError) => new Observable<SpeechEvent>((sub) => void p.recognize!(frames, { ...opts, connOptions: this.core.conn, onError }).then((r) => (sub.next(r), sub.complete()), (e) => sub.error(e))), { onError: opts?.onError })
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
    this.core = new FallbackCore(providers, opts, 10_000);
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
        const audio = p.synthesize(text, { ...opts, connOptions: this.core.conn, onError });
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
