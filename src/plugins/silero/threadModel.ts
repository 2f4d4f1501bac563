/**
 * The Silero model run on a worker thread (`SileroVAD.load({ thread: 'worker' })`): for processes that serve many
 * sessions. onnxruntime-node runs a model call synchronously on the calling thread, so on the main thread every
 * window of every stream blocks the event loop that also moves the rooms' audio; on a worker thread the inference
 * takes the machine's other core. Requests are gathered and merged as mergedRequests.ts says.
 *
 * A crash of the thread fails the windows in flight with a clear error (the VAD stream ends, recognition restarts
 * it) and the next window starts a new thread.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { stopThread } from '../stopThread.ts';
import { MergedRequestModel, type BatchAnswer, type InFlight } from './mergedRequests.ts';
import { notSileroV5 } from './model.ts';

type FromWorker =
  | { type: 'ready'; inputNames: string[] }
  | { type: 'load-error'; message: string }
  | ({ type: 'result'; id: number } & BatchAnswer)
  | { type: 'failed'; id: number; message: string };

const workerFile = () => fileURLToPath(new URL('./inferenceWorker.mjs', import.meta.url));

export class SileroThreadModel extends MergedRequestModel {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;

  private constructor(private readonly modelPath: string) {
    super();
  }

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
          const wrong = notSileroV5(this.modelPath, m.inputNames);
          if (wrong) reject(new Error(wrong));
          else resolve();
        } else if (m.type === 'load-error') reject(new Error(`Silero VAD: cannot load ${this.modelPath}: ${m.message}`));
        else if (m.type === 'failed') this.fail(m.id, new Error(`Silero VAD inference failed: ${m.message}`));
        else this.answer(m.id, m);
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

  protected async transmit(id: number, { packed }: InFlight): Promise<void> {
    if (!this.worker) void this.start().catch(() => {});
    await this.ready;
    this.worker!.ref(); // windows in flight keep the process alive until answered
    const { b, steps, input, state } = packed;
    this.worker!.postMessage({ type: 'batch', id, b, steps, input, state }, [input.buffer, state.buffer, steps.buffer]);
  }

  protected override idle(): void {
    this.worker?.unref();
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
    this.abandon(new Error('Silero VAD model closed'));
    if (w) await stopThread(w, { type: 'close' });
  }

  /** For tests: the thread exits with this code between model calls, as a crashed one would. */
  _exitThread(code = 1): Promise<void> {
    return this.worker ? stopThread(this.worker, { type: 'exit', code }) : Promise.resolve();
  }
}
