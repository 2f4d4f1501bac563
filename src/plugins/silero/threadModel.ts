/**
 * The Silero model run on a worker thread (`SileroVAD.load({ thread: 'worker' })`): for processes that serve many
 * sessions. onnxruntime-node runs a model call synchronously on the calling thread, so on the main thread every
 * window of every stream blocks the event loop that also moves the rooms' audio; on a worker thread the inference
 * takes the machine's other core. A request carries all the windows of a frame of one stream; the requests due in
 * one turn of the main thread (or within `batchDelayMs`) go over as one message, and the worker merges the messages
 * queued while it computes: concurrent streams share each model call.
 *
 * A crash of the thread fails the windows in flight with a clear error (the VAD stream ends, recognition restarts
 * it) and the next window starts a new thread.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { stopThread } from '../stopThread.ts';
import { CONTEXT, STATE_SIZE, WINDOW, type SileroInference, type WindowResult, type WindowsResult } from './model.ts';

const IN = CONTEXT + WINDOW;
const LAYER = STATE_SIZE / 2;

interface Pending {
  inputs: Float32Array[];
  state: Float32Array;
  resolve: (r: WindowsResult) => void;
  reject: (e: unknown) => void;
}
type FromWorker =
  | { type: 'ready'; inputNames: string[] }
  | { type: 'load-error'; message: string }
  /** `probs`: every window of every request, request by request; `state`: [2, b, 128] after each one's last window. */
  | { type: 'result'; id: number; probs: Float32Array; state: Float32Array; ms: number; runs: number; merged: number }
  | { type: 'failed'; id: number; message: string };

const workerFile = () => fileURLToPath(new URL('./inferenceWorker.mjs', import.meta.url));

export class SileroThreadModel implements SileroInference {
  readonly batching = true;
  readonly stats = { runs: 0, windows: 0 };
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private gathering: Pending[] = [];
  /** When the gathered requests go to the thread (performance.now() ms), and how to cancel that. */
  private sendAt = Infinity;
  private cancelSend: (() => void) | null = null;
  private nextId = 1;
  private readonly inFlight = new Map<number, Pending[]>();

  private constructor(private readonly modelPath: string) {}

  /** Starts the thread and loads the model there; rejects with the loader's message for a file that is no model. */
  static async load(modelPath: string): Promise<SileroThreadModel> {
    const m = new SileroThreadModel(modelPath);
    await m.start();
    return m;
  }

  private start(): Promise<void> {
    const worker = new Worker(workerFile(), { workerData: { modelPath: this.modelPath } });
    this.worker = worker;
    worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          const missing = ['input', 'state', 'sr'].filter((n) => !m.inputNames.includes(n));
          if (missing.length) reject(new Error(`${this.modelPath} is not a Silero VAD v5 model (missing inputs: ${missing.join(', ')})`));
          else resolve();
        } else if (m.type === 'load-error') reject(new Error(`Silero VAD: cannot load ${this.modelPath}: ${m.message}`));
        else this.settle(m);
      });
      const gone = (why: string) => {
        reject(new Error(why));
        if (this.worker !== worker) return;
        this.worker = null;
        this.ready = null;
        this.failAll(new Error(why));
      };
      worker.on('error', (e) => gone(`Silero VAD inference thread failed: ${e.message}`));
      worker.on('exit', (code) => gone(`Silero VAD inference thread exited (code ${code})`));
    });
    return this.ready;
  }

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
    const batch = this.gathering.splice(0);
    if (!batch.length) return;
    try {
      if (!this.worker) void this.start().catch(() => {});
      await this.ready;
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    const b = batch.length;
    const steps = new Int32Array(b);
    batch.forEach((p, i) => (steps[i] = p.inputs.length));
    const input = new Float32Array(steps.reduce((n, k) => n + k, 0) * IN);
    const state = new Float32Array(b * STATE_SIZE);
    let w = 0;
    batch.forEach((p, i) => {
      for (const x of p.inputs) input.set(x, w++ * IN);
      for (let l = 0; l < 2; l++) state.set(p.state.subarray(l * LAYER, (l + 1) * LAYER), (l * b + i) * LAYER);
    });
    const id = this.nextId++;
    this.inFlight.set(id, batch);
    this.worker!.ref(); // windows in flight keep the process alive until answered
    this.worker!.postMessage({ type: 'batch', id, b, steps, input, state }, [input.buffer, state.buffer, steps.buffer]);
  }

  private settle(m: Extract<FromWorker, { id: number }>): void {
    const batch = this.inFlight.get(m.id);
    if (!batch) return;
    this.inFlight.delete(m.id);
    if (!this.inFlight.size) this.worker?.unref();
    if (m.type === 'failed') {
      for (const p of batch) p.reject(new Error(`Silero VAD inference failed: ${m.message}`));
      return;
    }
    const b = batch.length;
    if (m.merged > 0) this.stats.runs += m.runs / m.merged;
    let w = 0;
    batch.forEach((p, i) => {
      const st = new Float32Array(STATE_SIZE);
      for (let l = 0; l < 2; l++) st.set(m.state.subarray((l * b + i) * LAYER, (l * b + i + 1) * LAYER), l * LAYER);
      const k = p.inputs.length;
      this.stats.windows += k;
      p.resolve({ probabilities: m.probs.slice(w, w + k), state: st, inferenceMs: m.ms });
      w += k;
    });
  }

  private failAll(e: Error): void {
    for (const batch of this.inFlight.values()) for (const p of batch) p.reject(e);
    this.inFlight.clear();
  }

  /**
   * Ends the thread (windows in flight fail); a later window would start a new one. The thread is asked to exit
   * between model calls (terminating it inside onnxruntime's native run can crash the process); only one that does
   * not answer within a second is terminated.
   */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    const closed = new Error('Silero VAD model closed');
    this.cancelSend?.();
    this.cancelSend = null;
    this.sendAt = Infinity;
    for (const p of this.gathering.splice(0)) p.reject(closed);
    this.failAll(closed);
    if (w) await stopThread(w, { type: 'close' });
  }

  /** For tests: the thread exits with this code between model calls, as a crashed one would. */
  _exitThread(code = 1): Promise<void> {
    return this.worker ? stopThread(this.worker, { type: 'exit', code }) : Promise.resolve();
  }
}
