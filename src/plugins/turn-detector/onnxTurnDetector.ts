/**
 * Smart Turn-shaped end-of-turn models on onnxruntime-node, run in a worker thread. The model file is the user's
 * (nothing is downloaded); its input decides how it is fed: `input_features [1,80,800]` gets Whisper log-mel
 * features of the last 8 s, `audio [1,128000]` the last 8 s of samples. Both at 16 kHz, left-padded when shorter.
 * A dead inference thread (a crash, or `close()`) makes every later prediction fail at once with the reason, so
 * the session falls back to VAD endpointing and says why.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AudioTurnDetector } from '../../turn/types.ts';
import { stopThread } from '../stopThread.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import type { SmartTurnInput } from './signature.ts';

export interface OnnxTurnDetectorOptions {
  /** Path of a Smart Turn-shaped ONNX model that you supply. */
  modelPath: string;
  /** Probability below which the end of turn is unlikely and the pause is held open (default 0.5). */
  unlikelyThreshold?: number | undefined;
  /** ms of silence an unlikely end holds the turn open at most (default: the session's endpointing maxDelay). */
  maxSilence?: number | undefined;
  /** Zero-mean, unit-variance audio before the model, as Smart Turn's reference pipeline does (default true). */
  normalizeAudio?: boolean | undefined;
  /** ONNX Runtime threads inside the inference thread (default 1). */
  intraOpNumThreads?: number | undefined;
  label?: string | undefined;
}

interface Pending {
  resolve: (r: { probability: number; featuresMs: number; inferenceMs: number }) => void;
  reject: (e: Error) => void;
}

export class OnnxTurnDetectorError extends Error {
  override name = 'OnnxTurnDetectorError';
}

/** Sources run through tsx inside the thread; a built package has the .js beside this file. */
function startWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./inferenceWorker.js', import.meta.url), { workerData: init, execArgv: [] });
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const entry = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
  const api = pathToFileURL(join(dirname(pkgPath), entry)).href;
  const main = new URL('./inferenceWorker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(main)}); })`;
  return new Worker(boot, { eval: true, workerData: init, execArgv: [] });
}

export class OnnxTurnDetector implements AudioTurnDetector {
  readonly input = 'audio' as const;
  readonly label: string;
  readonly unlikelyThreshold: number;
  readonly maxSilence: number | undefined;
  /** Predictions answered, and the cost of the last one (ms, measured in the inference thread). */
  readonly stats = { predictions: 0, lastFeaturesMs: 0, lastInferenceMs: 0 };
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: OnnxTurnDetectorError | null = null;

  private constructor(
    /** The inference thread (exposed for tests that need it to die). */
    readonly _worker: Worker,
    /** Which Smart Turn export the model is. */
    readonly modelInput: SmartTurnInput,
    o: OnnxTurnDetectorOptions,
  ) {
    this.label = o.label ?? `smart-turn(${modelInput})`;
    this.unlikelyThreshold = o.unlikelyThreshold ?? 0.5;
    this.maxSilence = o.maxSilence;
    _worker.on('message', (m: FromWorker) => this.onMessage(m));
    _worker.on('error', (e) => this.fail(`the inference thread crashed: ${e.message}`));
    _worker.on('exit', (code) => this.fail(`the inference thread exited unexpectedly (code ${code})`));
    _worker.unref(); // an idle detector does not keep the process alive (it is ref'd while a prediction runs)
  }

  /** Loads the model in a new inference thread; a missing, unreadable or wrongly shaped model is a clear error. */
  static async load(o: OnnxTurnDetectorOptions): Promise<OnnxTurnDetector> {
    if (typeof o?.modelPath !== 'string' || !o.modelPath) throw new TypeError('OnnxTurnDetector needs `modelPath`: the path of a Smart Turn-shaped ONNX model');
    const path = resolve(o.modelPath.startsWith('file:') ? fileURLToPath(o.modelPath) : o.modelPath);
    if (!existsSync(path)) throw new OnnxTurnDetectorError(`turn detector model not found: ${path}`);
    if (!statSync(path).isFile()) throw new OnnxTurnDetectorError(`turn detector model is not a file: ${path}`);
    const t = o.unlikelyThreshold ?? 0.5;
    if (!(t >= 0 && t <= 1)) throw new RangeError(`unlikelyThreshold must be in [0, 1], got ${t}`);
    if (o.maxSilence !== undefined && !(o.maxSilence >= 0 && Number.isFinite(o.maxSilence))) throw new RangeError(`maxSilence must be a non-negative number of ms, got ${o.maxSilence}`);
    const worker = startWorker({ modelPath: path, normalizeAudio: o.normalizeAudio ?? true, intraOpNumThreads: o.intraOpNumThreads ?? 1 });
    const input = await new Promise<SmartTurnInput>((res, rej) => {
      const done = (e?: Error, v?: SmartTurnInput) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (e) {
          void worker.terminate();
          rej(e);
        } else res(v!);
      };
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ready') done(undefined, m.input);
        else if (m.type === 'load_failed') done(new OnnxTurnDetectorError(`cannot use ${path} as a turn detector: ${m.message}`));
      };
      const onError = (e: Error) => done(new OnnxTurnDetectorError(`the turn detector's inference thread failed while loading ${path}: ${e.message}`));
      const onExit = (code: number) => done(new OnnxTurnDetectorError(`the turn detector's inference thread exited (code ${code}) while loading ${path}`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    return new OnnxTurnDetector(worker, input, o);
  }

  /** The session's hook: probability that the user finished, from their recent 16 kHz audio. */
  async predictEndOfTurn(_transcript: string, context?: { audio?: Float32Array }): Promise<number> {
    return (await this.predictAudio(context?.audio ?? new Float32Array(0))).probability;
  }

  /** Runs the model on the newest 8 s of `audio` (mono 16 kHz, −1..1); shorter audio is left-padded with silence. */
  predictAudio(audio: Float32Array): Promise<{ probability: number; featuresMs: number; inferenceMs: number }> {
    if (this.failure) return Promise.reject(this.failure);
    if (!(audio instanceof Float32Array)) return Promise.reject(new TypeError('predictAudio needs a Float32Array of 16 kHz samples'));
    const id = this.nextId++;
    // A copy of at most 8 s goes to the thread (transferred, not cloned): the caller keeps its array.
    const copy = audio.slice(Math.max(0, audio.length - 128000));
    return new Promise((res, rej) => {
      this.pending.set(id, { resolve: res, reject: rej });
      if (this.pending.size === 1) this._worker.ref();
      this._worker.postMessage({ type: 'predict', id, audio: copy } satisfies ToWorker, [copy.buffer]);
    });
  }

  /**
   * Ends the inference thread; later predictions fail (and a session using this detector falls back to VAD). The
   * thread exits between model calls (see stopThread).
   */
  async close(): Promise<void> {
    if (!this.failure) this.fail('the turn detector was closed');
    await stopThread(this._worker, { type: 'close' });
  }

  /** For tests: the thread exits with this code between model calls, as a crashed one would. */
  _exitThread(code = 1): Promise<void> {
    return stopThread(this._worker, { type: 'exit', code });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (!this.pending.size) this._worker.unref();
    return p;
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'result') {
      this.stats.predictions++;
      this.stats.lastFeaturesMs = m.featuresMs;
      this.stats.lastInferenceMs = m.inferenceMs;
      this.settle(m.id)?.resolve({ probability: m.probability, featuresMs: m.featuresMs, inferenceMs: m.inferenceMs });
    } else if (m.type === 'failed') {
      this.settle(m.id)?.reject(new OnnxTurnDetectorError(`${this.label}: inference failed: ${m.message}`));
    }
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = new OnnxTurnDetectorError(`${this.label}: ${reason}`);
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(this.failure);
  }
}
