/**
 * The Silero model run on a worker thread (`SileroVAD.load({ thread: 'worker' })`): for processes that serve many
 * sessions. onnxruntime-node runs a model call synchronously on the calling thread, so on the main thread every
 * window of every stream blocks the event loop that also moves the rooms' audio; on a worker thread the inference
 * takes the machine's other core. Windows due in one turn of the main thread go over as one message, and the worker
 * merges the messages queued while it computes into one model call.
 *
 * A crash of the thread fails the windows in flight with a clear error (the VAD stream ends, recognition restarts
 * it) and the next window starts a new thread.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CONTEXT, STATE_SIZE, WINDOW, type SileroInference, type WindowResult } from './model.ts';

const IN = CONTEXT + WINDOW;
const LAYER = STATE_SIZE / 2;

interface Pending {
  input: Float32Array;
  state: Float32Array;
  resolve: (r: WindowResult) => void;
  reject: (e: unknown) => void;
}
type FromWorker =
  | { type: 'ready'; inputNames: string[] }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; probs: Float32Array; state: Float32Array; ms: number; merged: number }
  | { type: 'failed'; id: number; message: string };

/** Asks a thread to exit and waits for it; terminates it after a second without an answer. */
function stopThread(w: Worker, message: { type: 'close' } | { type: 'exit'; code: number }): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => void w.terminate(), 1000);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    w.postMessage(message);
  });
}

const workerFile = () => fileURLToPath(new URL('./inferenceWorker.mjs', import.meta.url));

export class SileroThreadModel implements SileroInference {
  readonly batching = true;
  readonly stats = { runs: 0, windows: 0 };
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private gathering: Pending[] = [];
  private scheduled = false;
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

  infer(input: Float32Array, state: Float32Array): Promise<WindowResult> {
    return new Promise((resolve, reject) => {
      this.gathering.push({ input, state, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // Every stream whose window is due in this turn adds it first; then one message carries them all.
      setImmediate(() => {
        this.scheduled = false;
        void this.send();
      });
    });
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
    const input = new Float32Array(b * IN);
    const state = new Float32Array(b * STATE_SIZE);
    batch.forEach((p, i) => {
      input.set(p.input, i * IN);
      for (let l = 0; l < 2; l++) state.set(p.state.subarray(l * LAYER, (l + 1) * LAYER), (l * b + i) * LAYER);
    });
    const id = this.nextId++;
    this.inFlight.set(id, batch);
    this.worker!.ref(); // windows in flight keep the process alive until answered
    this.worker!.postMessage({ type: 'batch', id, b, input, state }, [input.buffer, state.buffer]);
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
    if (m.merged > 0) this.stats.runs += 1 / m.merged;
    this.stats.windows += b;
    batch.forEach((p, i) => {
      const st = new Float32Array(STATE_SIZE);
      for (let l = 0; l < 2; l++) st.set(m.state.subarray((l * b + i) * LAYER, (l * b + i + 1) * LAYER), l * LAYER);
      p.resolve({ probability: m.probs[i]!, state: st, inferenceMs: m.ms });
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
    for (const p of this.gathering.splice(0)) p.reject(closed);
    this.failAll(closed);
    if (w) await stopThread(w, { type: 'close' });
  }

  /** For tests: the thread exits with this code between model calls, as a crashed one would. */
  _exitThread(code = 1): Promise<void> {
    return this.worker ? stopThread(this.worker, { type: 'exit', code }) : Promise.resolve();
  }
}
