/**
 * What the Silero models that run elsewhere (a worker thread: SileroThreadModel; the worker's inference host:
 * SileroSharedModel) have in common: a request carries all the windows of a frame of one stream; the requests due
 * in one turn of this thread (or within `batchDelayMs`) go out as one batch, and the runner merges the batches
 * queued while it computes (batchRun.mjs). A subclass only carries a batch there and brings its answer back.
 */
import { IN, STATE } from './batchRun.mjs';
import type { SileroInference, WindowResult, WindowsResult } from './model.ts';

const STATE_SIZE = 2 * STATE;

export interface Request {
  inputs: Float32Array[];
  state: Float32Array;
  resolve: (r: WindowsResult) => void;
  reject: (e: unknown) => void;
}

/** A batch as it goes to a runner: `steps[i]` windows of request i, one after the other; states as [2, b, 128]. */
export interface PackedBatch {
  b: number;
  steps: Int32Array<ArrayBuffer>;
  input: Float32Array<ArrayBuffer>;
  state: Float32Array<ArrayBuffer>;
}

/** A runner's answer: every window's probability, request by request, and the states [2, b, 128] after them. */
export interface BatchAnswer {
  probs: Float32Array;
  state: Float32Array;
  /** Mean model time per window. */
  ms: number;
  /** Model calls of the run this batch was merged into, and how many batches shared it. */
  runs: number;
  merged: number;
}

export interface InFlight {
  requests: Request[];
  packed: PackedBatch;
}

export abstract class MergedRequestModel implements SileroInference {
  readonly batching = true;
  readonly stats = { runs: 0, windows: 0 };
  private gathering: Request[] = [];
  /** When the gathered requests go out (performance.now() ms), and how to cancel that. */
  private sendAt = Infinity;
  private cancelSend: (() => void) | null = null;
  private nextId = 1;
  protected readonly inFlight = new Map<number, InFlight>();

  /** Carries a batch to the runner; a rejection fails its requests with that error. */
  protected abstract transmit(id: number, batch: InFlight): Promise<void>;

  /** Nothing is in flight any more (a runner that keeps the process alive while it computes may let go). */
  protected idle(): void {}

  async infer(input: Float32Array, state: Float32Array): Promise<WindowResult> {
    const r = await this.inferWindows([input], state);
    return { probability: r.probabilities[0]!, state: r.state, inferenceMs: r.inferenceMs };
  }

  inferWindows(inputs: Float32Array[], state: Float32Array, batchDelayMs = 0): Promise<WindowsResult> {
    if (!inputs.length) return Promise.resolve({ probabilities: new Float32Array(0), state, inferenceMs: 0 });
    return new Promise((resolve, reject) => {
      this.gathering.push({ inputs, state, resolve, reject });
      this.sendBy(performance.now() + batchDelayMs, batchDelayMs);
    });
  }

  /**
   * Sends what is gathered no later than `at`: at the end of this turn for no delay (every stream whose windows are
   * due in this turn adds them first), else after the delay; an earlier deadline moves a later one forward.
   */
  private sendBy(at: number, delayMs: number): void {
    if (at >= this.sendAt) return;
    this.cancelSend?.();
    this.sendAt = at;
    const fire = () => {
      this.sendAt = Infinity;
      this.cancelSend = null;
      void this.send();
    };
    if (delayMs > 0) {
      const t = setTimeout(fire, delayMs);
      this.cancelSend = () => clearTimeout(t);
    } else {
      const i = setImmediate(fire);
      this.cancelSend = () => clearImmediate(i);
    }
  }

  private async send(): Promise<void> {
    const requests = this.gathering.splice(0);
    if (!requests.length) return;
    const id = this.nextId++;
    const entry = { requests, packed: pack(requests) };
    this.inFlight.set(id, entry);
    try {
      await this.transmit(id, entry);
    } catch (e) {
      this.fail(id, e as Error);
    }
  }

  /** The runner answered batch `id`: each request gets its windows' probabilities and its next state. */
  protected answer(id: number, a: BatchAnswer): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    this.inFlight.delete(id);
    if (!this.inFlight.size) this.idle();
    const b = entry.requests.length;
    if (a.merged > 0) this.stats.runs += a.runs / a.merged;
    let w = 0;
    entry.requests.forEach((r, i) => {
      const st = new Float32Array(STATE_SIZE);
      for (let l = 0; l < 2; l++) st.set(a.state.subarray((l * b + i) * STATE, (l * b + i + 1) * STATE), l * STATE);
      const k = r.inputs.length;
      this.stats.windows += k;
      r.resolve({ probabilities: a.probs.slice(w, w + k), state: st, inferenceMs: a.ms });
      w += k;
    });
  }

  /** Batch `id` failed (the model call threw, or the runner gave up on it). */
  protected fail(id: number, e: Error): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    this.inFlight.delete(id);
    if (!this.inFlight.size) this.idle();
    for (const r of entry.requests) r.reject(e);
  }

  protected failAll(e: Error): void {
    for (const id of [...this.inFlight.keys()]) this.fail(id, e);
  }

  /** Every request, gathered or in flight, fails with `e`; nothing more goes out until the next window. */
  protected abandon(e: Error): void {
    this.cancelSend?.();
    this.cancelSend = null;
    this.sendAt = Infinity;
    for (const r of this.gathering.splice(0)) r.reject(e);
    this.failAll(e);
  }
}

function pack(requests: Request[]): PackedBatch {
  const b = requests.length;
  const steps = new Int32Array(b);
  requests.forEach((r, i) => (steps[i] = r.inputs.length));
  const input = new Float32Array(steps.reduce((n, k) => n + k, 0) * IN);
  const state = new Float32Array(b * STATE_SIZE);
  let w = 0;
  requests.forEach((r, i) => {
    for (const x of r.inputs) input.set(x, w++ * IN);
    for (let l = 0; l < 2; l++) state.set(r.state.subarray(l * STATE, (l + 1) * STATE), (l * b + i) * STATE);
  });
  return { b, steps, input, state };
}
