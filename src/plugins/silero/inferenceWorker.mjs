// Silero VAD inference off the main thread (a worker_threads worker started by threadModel.ts). Plain JavaScript so
// that it runs the same from the sources and from dist/. Batches queued while a model call runs are merged into
// the next call: concurrent streams cost one call per turn of this thread, whatever the number of sessions.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const CONTEXT = 64;
const WINDOW = 512;
const IN = CONTEXT + WINDOW;
const STATE = 128;

let session;
const queue = [];
let running = false;

try {
  session = await ort.InferenceSession.create(workerData.modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
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
  const b = batches.reduce((n, x) => n + x.b, 0);
  try {
    const input = new Float32Array(b * IN);
    const state = new Float32Array(2 * b * STATE);
    let at = 0;
    for (const x of batches) {
      input.set(x.input, at * IN);
      // Each message's state is [2, x.b, 128]; the merged one is [2, b, 128].
      for (let l = 0; l < 2; l++) state.set(x.state.subarray(l * x.b * STATE, (l + 1) * x.b * STATE), (l * b + at) * STATE);
      at += x.b;
    }
    const t0 = performance.now();
    const out = await session.run({
      input: new ort.Tensor('float32', input, [b, IN]),
      state: new ort.Tensor('float32', state, [2, b, STATE]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    const ms = (performance.now() - t0) / b;
    const probs = out.output.data;
    const next = out.stateN.data;
    at = 0;
    for (const x of batches) {
      const p = Float32Array.from(probs.subarray(at, at + x.b));
      const s = new Float32Array(2 * x.b * STATE);
      for (let l = 0; l < 2; l++) s.set(next.subarray((l * b + at) * STATE, (l * b + at + x.b) * STATE), l * x.b * STATE);
      parentPort.postMessage({ type: 'result', id: x.id, probs: p, state: s, ms, merged: batches.length }, [p.buffer, s.buffer]);
      at += x.b;
    }
  } catch (e) {
    for (const x of batches) parentPort.postMessage({ type: 'failed', id: x.id, message: String(e?.message ?? e) });
  } finally {
    running = false;
    if (closing !== false) finish(closing);
    else if (queue.length) setImmediate(run);
  }
}
