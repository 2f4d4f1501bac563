import { Observable, type Subscription } from 'rxjs';
import type { Agent } from '../agent.ts';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioOutput, PlaybackEvent } from '../io/types.ts';
import { functionTool, ToolError, type FunctionTool, type RunContext } from '../llm/tools.ts';
import type {
  ChatChunk,
  LLM,
  LLMRequest,
  ProviderCallOptions,
  SpeechEvent,
  STT,
  STTStreamOptions,
  SynthesizedAudio,
  TTS,
} from '../providers/types.ts';
import type { UserSpeechScript } from './userSpeech.ts';

/**
 * A fault for one provider call. `afterItems` counts the items the stream emitted (chunks, frames, speech events);
 * `afterMs` counts virtual or real time from the call.
 */
export type StreamFault =
  | { kind: 'throw_sync'; message?: string }
  | { kind: 'error_before'; afterMs?: number; message?: string }
  | { kind: 'error_mid'; afterItems?: number; afterMs?: number; message?: string }
  | { kind: 'complete_early'; afterItems?: number; afterMs?: number }
  | { kind: 'delay'; ms: number };

/** Which fault the next call gets: queued faults first (one per call), then `plan(callIndex)`. */
export class FaultPlan {
  private readonly queue: Array<StreamFault | null> = [];
  /** Faults applied, with the call index. */
  readonly injected: Array<{ call: number; fault: StreamFault }> = [];
  calls = 0;
  /** Subscriptions to wrapped streams that are still open. */
  live = 0;

  constructor(private readonly plan?: (call: number) => StreamFault | null | undefined) {}

  /** Queues faults (or `null`: no fault) for the next calls, in order. */
  next(...faults: Array<StreamFault | null>): this {
    this.queue.push(...faults);
    return this;
  }

  /** @internal */
  take(): StreamFault | null {
    const call = this.calls++;
    const f = this.queue.length ? this.queue.shift()! : (this.plan?.(call) ?? null);
    if (f) this.injected.push({ call, fault: f });
    return f;
  }

  /** @internal wraps a call's stream with its fault and counts it while subscribed. */
  wrap<T>(fault: StreamFault | null, source: () => Observable<T>, label: string): Observable<T> {
    if (fault?.kind === 'throw_sync') throw new Error(fault.message ?? `${label}: injected synchronous failure`);
    const faulty = withFault(source, fault, label);
    return new Observable<T>((sub) => {
      this.live++;
      const inner = faulty.subscribe(sub);
      return () => {
        this.live--;
        inner.unsubscribe();
      };
    });
  }
}

/** Applies one fault to a stream: an error before or part-way, an early end, or a slow start. */
export function withFault<T>(source: () => Observable<T>, fault: StreamFault | null, label = 'provider'): Observable<T> {
  if (!fault) return new Observable<T>((sub) => source().subscribe(sub));
  return new Observable<T>((sub) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    const at = (ms: number, fn: () => void) => void timers.push(setTimeout(fn, ms));
    let inner: Subscription | null = null;
    let items = 0;
    const fail = (m: string | undefined, dflt: string) => sub.error(new Error(m ?? `${label}: ${dflt}`));
    const start = (onItem: (v: T) => void) => {
      inner = source().subscribe({ next: onItem, error: (e) => sub.error(e), complete: () => sub.complete() });
    };
    switch (fault.kind) {
      case 'error_before':
        at(fault.afterMs ?? 0, () => fail(fault.message, 'injected failure before any output'));
        break;
      case 'delay': {
        const held: T[] = [];
        let open = false;
        start((v) => (open ? sub.next(v) : held.push(v)));
        at(fault.ms, () => {
          open = true;
          for (const v of held.splice(0)) sub.next(v);
        });
        break;
      }
      case 'error_mid':
      case 'complete_early': {
        const end = () => {
          inner?.unsubscribe();
          if (fault.kind === 'error_mid') fail(fault.message, `injected failure after ${items} items`);
          else sub.complete();
        };
        if (fault.afterMs !== undefined) at(fault.afterMs, end);
        start((v) => {
          if (fault.afterItems !== undefined && items >= fault.afterItems) return end();
          items++;
          sub.next(v);
        });
        if (fault.afterItems === 0) end();
        break;
      }
    }
    return () => {
      for (const t of timers) clearTimeout(t);
      inner?.unsubscribe();
    };
  });
}

/** An LLM whose calls fail, stall or throw as planned. */
export class FaultyLLM implements LLM {
  readonly faults: FaultPlan;
  constructor(
    readonly inner: LLM,
    plan?: FaultPlan | ((call: number) => StreamFault | null | undefined),
  ) {
    this.faults = plan instanceof FaultPlan ? plan : new FaultPlan(plan);
  }
  get label(): string {
    return this.inner.label;
  }
  get model(): string {
    return this.inner.model;
  }
  chat(request: LLMRequest): Observable<ChatChunk> {
    return this.faults.wrap(this.faults.take(), () => this.inner.chat(request), `llm ${this.inner.label}`);
  }
}

/** A TTS whose syntheses fail before or part-way through the audio, or start late. */
export class FaultyTTS implements TTS {
  readonly faults: FaultPlan;
  constructor(
    readonly inner: TTS,
    plan?: FaultPlan | ((call: number) => StreamFault | null | undefined),
  ) {
    this.faults = plan instanceof FaultPlan ? plan : new FaultPlan(plan);
    if (inner.stream) {
      this.stream = (text$, opts) => this.faults.wrap(this.faults.take(), () => inner.stream!(text$, opts), `tts ${inner.label}`);
    }
  }
  get label() {
    return this.inner.label;
  }
  get sampleRate() {
    return this.inner.sampleRate;
  }
  get numChannels() {
    return this.inner.numChannels;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  stream?: (text: Observable<string>, opts?: ProviderCallOptions) => Observable<SynthesizedAudio>;
  synthesize(text: string, opts?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return this.faults.wrap(this.faults.take(), () => this.inner.synthesize(text, opts), `tts ${this.inner.label}`);
  }
}

/** A streaming STT whose recognition streams fail or simply complete (the provider hung up). */
export class FaultySTT implements STT {
  readonly faults: FaultPlan;
  constructor(
    readonly inner: STT,
    plan?: FaultPlan | ((call: number) => StreamFault | null | undefined),
  ) {
    this.faults = plan instanceof FaultPlan ? plan : new FaultPlan(plan);
  }
  get label() {
    return this.inner.label;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  stream(audio: Observable<AudioFrame>, opts?: STTStreamOptions): Observable<SpeechEvent> {
    return this.faults.wrap(this.faults.take(), () => this.inner.stream(audio, opts), `stt ${this.inner.label}`);
  }
}

/** What a scripted tool does when called. */
export type ToolBehaviour =
  | { kind: 'ok'; result?: string }
  | { kind: 'slow'; ms: number; result?: string }
  | { kind: 'throw'; message?: string; sync?: boolean }
  | { kind: 'tool_error'; message?: string }
  | { kind: 'never' }
  | { kind: 'handoff'; agent: () => Agent; afterMs?: number };

export type ScriptedTool = FunctionTool & {
  /** Calls started, settled, and still running. */
  readonly stats: { calls: number; settled: number; readonly pending: number; aborted: number; timers: number };
};

/**
 * A tool that behaves as scripted per call (`behaviour(callIndex, args)`): answers, answers slowly, throws
 * (synchronously or not), raises a ToolError, never settles, or hands off to another agent. A call that never
 * settles rejects when the run context offers an abort `signal` and it fires (for cores that pass one).
 */
export function scriptedTool(name: string, behaviour: ToolBehaviour | ((call: number, args: Record<string, unknown>) => ToolBehaviour)): ScriptedTool {
  const stats = {
    calls: 0,
    settled: 0,
    aborted: 0,
    /** Timers of slow calls still pending (the tool's own, not the session's). */
    timers: 0,
    get pending() {
      return stats.calls - stats.settled;
    },
  };
  const run = (args: Record<string, unknown>, ctx: RunContext): unknown => {
    const b = typeof behaviour === 'function' ? behaviour(stats.calls, args) : behaviour;
    stats.calls++;
    const settle = <T>(v: T) => (stats.settled++, v);
    const signal = (ctx as { signal?: AbortSignal }).signal;
    /** Settles with `value()` after `ms` (never when `ms` is null), or rejects when the run is aborted. */
    const timed = (ms: number | null, value: () => unknown) =>
      new Promise((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | null = null;
        let over = false;
        const end = () => {
          over = true;
          if (timer) (clearTimeout(timer), stats.timers--);
          timer = null;
        };
        const fire = () => {
          end();
          try {
            resolve(value());
          } catch (e) {
            reject(e);
          }
        };
        signal?.addEventListener('abort', () => {
          if (over) return;
          end();
          stats.aborted++;
          reject(new ToolError('aborted'));
        });
        if (ms === null) return;
        if (ms <= 0) return fire();
        timer = setTimeout(fire, ms);
        stats.timers++;
      }).finally(() => stats.settled++);
    switch (b.kind) {
      case 'ok':
        return settle(b.result ?? `${name} done`);
      case 'slow':
        return timed(b.ms, () => b.result ?? `${name} done`);
      case 'tool_error':
        stats.settled++;
        throw new ToolError(b.message ?? `${name} failed`);
      case 'throw':
        if (b.sync) {
          stats.settled++;
          throw new Error(b.message ?? `${name} crashed`);
        }
        return timed(0, () => {
          throw new Error(b.message ?? `${name} crashed`);
        });
      case 'never':
        return timed(null, () => undefined);
      case 'handoff':
        return timed(b.afterMs ?? 0, () => b.agent());
    }
  };
  const tool = functionTool({
    name,
    description: `scripted tool ${name}`,
    parameters: { type: 'object', properties: { n: { type: 'number' } } },
    execute: (args: Record<string, unknown>, ctx) => run(args, ctx),
  });
  return Object.assign(tool, { stats });
}

/** Tool-call arguments a model might produce that are not JSON at all. */
export const BROKEN_JSON_ARGUMENTS = '{"n": 1, "city": "Par';

/** A noise burst: the VAD hears speech, the STT hears nothing. */
export function noiseBurst(script: UserSpeechScript, opts: { inMs?: number; durationMs: number }): void {
  script.speak({ inMs: opts.inMs ?? 0, durationMs: opts.durationMs, transcript: '' });
}

/**
 * A pausable output that also stalls by itself (a network hiccup): `stall(ms)` stops playback for `ms` without
 * the session asking; the session's own pause/resume still work and combine with the stall.
 */
export class StallingAudioOutput implements AudioOutput {
  readonly events$: Observable<PlaybackEvent>;
  private sessionPaused = false;
  private stalls = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(readonly inner: AudioOutput) {
    if (!inner.canPause) throw new Error('StallingAudioOutput needs an output that can pause');
    this.events$ = inner.events$;
  }
  get label() {
    return `stalling(${this.inner.label})`;
  }
  get canPause() {
    return true;
  }
  get sampleRate() {
    return this.inner.sampleRate;
  }
  captureFrame(frame: AudioFrame): void {
    this.inner.captureFrame(frame);
  }
  flush(): void {
    this.inner.flush();
  }
  clearBuffer(): void {
    this.inner.clearBuffer();
  }
  pause(): void {
    this.sessionPaused = true;
    this.inner.pause();
  }
  resume(): void {
    this.sessionPaused = false;
    if (this.stalls === 0) this.inner.resume();
  }
  stall(ms: number): void {
    this.stalls++;
    this.inner.pause();
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (--this.stalls === 0 && !this.sessionPaused) this.inner.resume();
    }, ms);
    this.timers.add(t);
  }
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.stalls = 0;
    this.inner.close?.();
  }
}
