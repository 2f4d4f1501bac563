/**
 * The turn detector's inference thread: loads the model once, then for each request takes the newest 8 s of
 * 16 kHz audio, computes Whisper features when the model wants them, and runs the model. Runs in a worker_thread
 * so that neither the features nor the model hold up the session's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { lastWindow, normalizeWindow, N_FRAMES, N_MELS, WINDOW_SAMPLES, whisperLogMel } from './logMel.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { detectSignature, type InputInfo } from './signature.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  let input: 'input_features' | 'audio';
  try {
    session = await ort.InferenceSession.create(init.modelPath, {
      intraOpNumThreads: init.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 4, // failures come back as errors; ORT's own log would repeat them on stderr
    });
    input = detectSignature(session.inputMetadata as readonly InputInfo[]);
  } catch (e) {
    post({ type: 'load_failed', message: message(e) });
    return;
  }
  const output = session.outputNames[0]!;
  // The first log-mel runs cold (several times slower before the JIT has seen it): not on a user's first pause.
  if (input === 'input_features') whisperLogMel(new Float32Array(WINDOW_SAMPLES));
  post({ type: 'ready', input, output });

  // One request at a time, in order: the model is the bottleneck, and answers must not overtake each other. A
  // close request ends the thread after the call in progress, never during it (terminating a thread inside
  // onnxruntime's native run can take the process down); requests queued behind it are not run.
  let chain = Promise.resolve();
  let exitCode: number | null = null;
  const finish = (code: number) => {
    void session.release().catch(() => {});
    process.exit(code);
  };
  port.on('message', (m: ToWorker) => {
    if (m.type === 'close' || m.type === 'exit') {
      if (exitCode === null) {
        exitCode = m.type === 'close' ? 0 : m.code;
        chain = chain.then(() => finish(exitCode!));
      }
      return;
    }
    chain = chain.then(async () => {
      if (exitCode !== null) return;
      try {
        const t0 = performance.now();
        let window = lastWindow(m.audio);
        if (init.normalizeAudio) window = normalizeWindow(window);
        const feed =
          input === 'input_features'
            ? new ort.Tensor('float32', whisperLogMel(window), [1, N_MELS, N_FRAMES])
            : new ort.Tensor('float32', window, [1, WINDOW_SAMPLES]);
        const t1 = performance.now();
        const out = await session.run({ [input]: feed });
        const t2 = performance.now();
        const value = out[output];
        const probability = value && value.data.length ? Number(value.data[0]) : NaN;
        if (!(probability >= 0 && probability <= 1)) throw new RangeError(`the model's output ${output} is not a probability (got ${probability})`);
        post({ type: 'result', id: m.id, probability, featuresMs: t1 - t0, inferenceMs: t2 - t1 });
      } catch (e) {
        post({ type: 'failed', id: m.id, message: message(e) });
      }
    });
  });
}

void main();
