/**
 * The Silero VAD v5 ONNX model on onnxruntime-node, loaded once per process (per model file) and shared by all
 * streams. Windows that become due in the same event-loop turn run as one batch (`input[B,576]`,
 * `state[2,B,128]`): many sessions cost one model call per turn instead of one each. onnxruntime is imported when a
 * model is first loaded: a job process whose model runs in the worker's inference host never maps it (20 MB).
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import { CONTEXT, SESSION_OPTIONS, STATE, WINDOW } from './batchRun.mjs';

export { CONTEXT, WINDOW };
export const STATE_SIZE = 2 * STATE;

/** Where the model file comes from: `@ricky0123/vad-web` ships Silero v5 (MIT, see NOTICE). */
export function defaultModelPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx');
}

/** One window's answer: the speech probability and the next recurrent state. */
export interface WindowResult {
  probability: number;
  state: Float32Array;
  inferenceMs: number;
}

/** Consecutive windows' answers: a probability each, and the recurrent state after the last. */
export interface WindowsResult {
  probabilities: Float32Array;
  state: Float32Array;
  /** Mean model time per window. */
  inferenceMs: number;
}

/** What the VAD needs of a model, on this thread (SileroModel) or a worker thread (SileroThreadModel). */
export interface SileroInference {
  readonly batching: boolean;
  /** Model calls and windows inferred, for benchmarks. */
  readonly stats: { runs: number; windows: number };
  /** `input`: CONTEXT + WINDOW samples in −1..1; `state`: 2 × 128. */
  infer(input: Float32Array, state: Float32Array): Promise<WindowResult>;
  /**
   * Consecutive windows of one stream (each CONTEXT + WINDOW samples), the state carried from one to the next:
   * one request for all the windows of a frame. `batchDelayMs` (worker thread only) lets the request wait that
   * long for other streams' windows, so that they share one round-trip to the thread.
   */
  inferWindows(inputs: Float32Array[], state: Float32Array, batchDelayMs?: number): Promise<WindowsResult>;
}

interface Pending {
  input: Float32Array;
  state: Float32Array;
  resolve: (r: WindowResult) => void;
  reject: (e: unknown) => void;
}

/** Why a loaded model (given its input names) is not Silero VAD v5, or null when it is: every runner checks this. */
export function notSileroV5(path: string, inputNames: readonly string[]): string | null {
  const missing = ['input', 'state', 'sr'].filter((n) => !inputNames.includes(n));
  return missing.length ? `${path} is not a Silero VAD v5 model (missing inputs: ${missing.join(', ')})` : null;
}

export class SileroModel implements SileroInference {
  private pending: Pending[] = [];
  private running = false;
  private scheduled = false;
  /** Batches run and windows inferred, for benchmarks. */
  readonly stats = { runs: 0, windows: 0 };

  private constructor(
    private readonly session: Ort.InferenceSession,
    private readonly Tensor: typeof Ort.Tensor,
    readonly batching: boolean,
  ) {}

  private static cache = new Map<string, Promise<Ort.InferenceSession>>();

  static async load(opts: { modelPath?: string; batching?: boolean } = {}): Promise<SileroModel> {
    const path = opts.modelPath ?? defaultModelPath();
    const ort = await import('onnxruntime-node');
    let s = SileroModel.cache.get(path);
    if (!s) {
      s = ort.InferenceSession.create(path, SESSION_OPTIONS);
      SileroModel.cache.set(path, s);
      s.catch(() => SileroModel.cache.delete(path));
    }
    const session = await s;
    const wrong = notSileroV5(path, session.inputNames);
    if (wrong) throw new Error(wrong);
    return new SileroModel(session, ort.Tensor, opts.batching ?? true);
  }

  /** Probability of speech in one window; resolves with the next recurrent state. */
  infer(input: Float32Array, state: Float32Array): Promise<WindowResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, state, resolve, reject });
      this.schedule();
    });
  }

  /** On this thread each window is a model call of its own (batched with other streams' windows of the same turn). */
  async inferWindows(inputs: Float32Array[], state: Float32Array): Promise<WindowsResult> {
    const probabilities = new Float32Array(inputs.length);
    let ms = 0;
    for (let i = 0; i < inputs.length; i++) {
      const r = await this.infer(inputs[i]!, state);
      probabilities[i] = r.probability;
      state = r.state;
      ms += r.inferenceMs;
    }
    return { probabilities, state, inferenceMs: inputs.length ? ms / inputs.length : 0 };
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // Let every stream whose window is due in this turn add it first.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running || !this.pending.length) return;
    this.running = true;
    const batch = this.batching ? this.pending.splice(0) : this.pending.splice(0, 1);
    const b = batch.length;
    try {
      const input = new Float32Array(b * (CONTEXT + WINDOW));
      const state = new Float32Array(b * STATE_SIZE);
      batch.forEach((p, i) => {
        input.set(p.input, i * (CONTEXT + WINDOW));
        // state is [2, B, 128]: layer l of item i at (l * B + i) * 128
        for (let l = 0; l < 2; l++) state.set(p.state.subarray(l * 128, (l + 1) * 128), (l * b + i) * 128);
      });
      const t0 = performance.now();
      const out = await this.session.run({
        input: new this.Tensor('float32', input, [b, CONTEXT + WINDOW]),
        state: new this.Tensor('float32', state, [2, b, 128]),
        sr: new this.Tensor('int64', BigInt64Array.from([16000n]), []),
      });
      const ms = (performance.now() - t0) / b;
      const probs = out.output!.data as Float32Array;
      const next = out.stateN!.data as Float32Array;
      this.stats.runs++;
      this.stats.windows += b;
      batch.forEach((p, i) => {
        const st = new Float32Array(STATE_SIZE);
        for (let l = 0; l < 2; l++) st.set(next.subarray((l * b + i) * 128, (l * b + i + 1) * 128), l * 128);
        p.resolve({ probability: probs[i]!, state: st, inferenceMs: ms });
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.running = false;
      if (this.pending.length) this.schedule();
    }
  }
}
