// Silero VAD inference off the main thread (a worker_threads worker started by threadModel.ts). Plain JavaScript so
// that it runs the same from the sources and from dist/. A message holds requests, each the consecutive windows of
// one stream; the messages queued while a model call runs are merged into the next turn (batchRun.mjs).
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { runBatches, SESSION_OPTIONS } from './batchRun.mjs';

let session;
const queue = [];
let running = false;

try {
  session = await ort.InferenceSession.create(workerData.modelPath, SESSION_OPTIONS);
  parentPort.postMessage({ type: 'ready', inputNames: session.inputNames });
} catch (e) {
  parentPort.postMessage({ type: 'load-error', message: String(e?.message ?? e) });
}

let closing = false;
// Ends this thread between model calls, never during one: terminating a thread inside onnxruntime's native run can
// take the whole process down. `exit` (tests) ends it with a code, as a crash would.
const finish = (code) => {
  session?.release?.().catch?.(() => {});
  process.exit(code);
};
parentPort.on('message', (m) => {
  if (m.type === 'close' || m.type === 'exit') {
    closing = m.type === 'close' ? 0 : (m.code ?? 1);
    if (!running) finish(closing);
    return;
  }
  if (m.type !== 'batch') return;
  queue.push(m);
  if (!running) setImmediate(run);
});

async function run() {
  if (running || !queue.length) return;
  running = true;
  const batches = queue.splice(0);
  try {
    const { results, runs, ms } = await runBatches(session, ort.Tensor, batches);
    batches.forEach((x, i) => {
      const { probs, state } = results[i];
      parentPort.postMessage({ type: 'result', id: x.id, probs, state, ms, runs, merged: batches.length }, [probs.buffer, state.buffer]);
    });
  } catch (e) {
    for (const x of batches) parentPort.postMessage({ type: 'failed', id: x.id, message: String(e?.message ?? e) });
  } finally {
    running = false;
    if (closing !== false) finish(closing);
    else if (queue.length) setImmediate(run);
  }
}
