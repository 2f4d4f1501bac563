// Silero VAD inference off the main thread (a worker_threads worker started by threadModel.ts). Plain JavaScript so
// that it runs the same from the sources and from dist/. A message holds requests, each the consecutive windows of
// one stream (`steps[i]` of them); the messages queued while a model call runs are merged into the next turn, which
// runs window t of every request that has one as one model call (t = 0, 1, …): concurrent streams share each call,
// and a stream's windows run in order, each on the state the previous one left.
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
  // Every request of every message: where its windows start in its message's input, its state as it goes.
  const items = [];
  for (const x of batches) {
    let w = 0;
    x.items = [];
    for (let i = 0; i < x.b; i++) {
      const st = new Float32Array(2 * STATE);
      for (let l = 0; l < 2; l++) st.set(x.state.subarray((l * x.b + i) * STATE, (l * x.b + i + 1) * STATE), l * STATE);
      const it = { x, first: w, k: x.steps[i], state: st };
      items.push(it);
      x.items.push(it);
      w += x.steps[i];
    }
    x.probs = new Float32Array(w);
  }
  const runs = items.reduce((n, it) => Math.max(n, it.k), 0);
  const windows = items.reduce((n, it) => n + it.k, 0);
  try {
    const t0 = performance.now();
    for (let t = 0; t < runs; t++) {
      const active = items.filter((it) => it.k > t);
      const b = active.length;
      const input = new Float32Array(b * IN);
      const state = new Float32Array(2 * b * STATE);
      active.forEach((it, j) => {
        input.set(it.x.input.subarray((it.first + t) * IN, (it.first + t + 1) * IN), j * IN);
        // The model's state is [2, b, 128].
        for (let l = 0; l < 2; l++) state.set(it.state.subarray(l * STATE, (l + 1) * STATE), (l * b + j) * STATE);
      });
      const out = await session.run({
        input: new ort.Tensor('float32', input, [b, IN]),
        state: new ort.Tensor('float32', state, [2, b, STATE]),
        sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
      });
      const probs = out.output.data;
      const next = out.stateN.data;
      active.forEach((it, j) => {
        it.x.probs[it.first + t] = probs[j];
        for (let l = 0; l < 2; l++) it.state.set(next.subarray((l * b + j) * STATE, (l * b + j + 1) * STATE), l * STATE);
      });
    }
    const ms = windows ? (performance.now() - t0) / windows : 0;
    for (const x of batches) {
      const s = new Float32Array(2 * x.b * STATE);
      x.items.forEach((it, i) => {
        for (let l = 0; l < 2; l++) s.set(it.state.subarray(l * STATE, (l + 1) * STATE), (l * x.b + i) * STATE);
      });
      parentPort.postMessage({ type: 'result', id: x.id, probs: x.probs, state: s, ms, runs, merged: batches.length }, [x.probs.buffer, s.buffer]);
    }
  } catch (e) {
    for (const x of batches) parentPort.postMessage({ type: 'failed', id: x.id, message: String(e?.message ?? e) });
  } finally {
    running = false;
    if (closing !== false) finish(closing);
    else if (queue.length) setImmediate(run);
  }
}
