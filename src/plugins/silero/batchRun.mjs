// Running merged Silero requests: the inference thread's (inferenceWorker.mjs) model calls, kept apart so that
// another runner of merged requests (a process serving many job processes) can run the same code. Plain JavaScript
// so that a worker thread runs it the same from the sources and from dist/; the window sizes are defined here and
// model.ts takes them from here. A request is the consecutive windows of one stream; a batch holds `b` requests
// (`steps[i]` windows each, their inputs one after the other in `input`, their states as the model's [2, b, 128] in
// `state`). All the batches given run as one: model call t takes window t of every request that has one, so
// concurrent streams share each call, and a stream's windows run in order, each on the state the previous one left.

export const CONTEXT = 64;
export const WINDOW = 512;
export const IN = CONTEXT + WINDOW;
export const STATE = 128;

/**
 * Runs `batches` on `session` (an onnxruntime InferenceSession of Silero v5; `Tensor` its package's class) and
 * returns, per batch, every window's probability and the state [2, b, 128] after each request's last window, with
 * the number of model calls and the mean model time per window.
 */
export async function runBatches(session, Tensor, batches) {
  const items = [];
  const perBatch = batches.map((x) => {
    const probs = new Float32Array(x.steps.reduce((n, k) => n + k, 0));
    const own = [];
    let w = 0;
    for (let i = 0; i < x.b; i++) {
      const st = new Float32Array(2 * STATE);
      for (let l = 0; l < 2; l++) st.set(x.state.subarray((l * x.b + i) * STATE, (l * x.b + i + 1) * STATE), l * STATE);
      const it = { x, probs, first: w, k: x.steps[i], state: st };
      own.push(it);
      items.push(it);
      w += x.steps[i];
    }
    return { own, probs };
  });
  const runs = items.reduce((n, it) => Math.max(n, it.k), 0);
  const windows = items.reduce((n, it) => n + it.k, 0);
  const t0 = performance.now();
  for (let t = 0; t < runs; t++) {
    const active = items.filter((it) => it.k > t);
    const b = active.length;
    const input = new Float32Array(b * IN);
    const state = new Float32Array(2 * b * STATE);
    active.forEach((it, j) => {
      input.set(it.x.input.subarray((it.first + t) * IN, (it.first + t + 1) * IN), j * IN);
      for (let l = 0; l < 2; l++) state.set(it.state.subarray(l * STATE, (l + 1) * STATE), (l * b + j) * STATE);
    });
    const out = await session.run({
      input: new Tensor('float32', input, [b, IN]),
      state: new Tensor('float32', state, [2, b, STATE]),
      sr: new Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    const probs = out.output.data;
    const next = out.stateN.data;
    active.forEach((it, j) => {
      it.probs[it.first + t] = probs[j];
      for (let l = 0; l < 2; l++) it.state.set(next.subarray((l * b + j) * STATE, (l * b + j + 1) * STATE), l * STATE);
    });
  }
  const ms = windows ? (performance.now() - t0) / windows : 0;
  const results = perBatch.map(({ own, probs }) => {
    const state = new Float32Array(2 * own.length * STATE);
    own.forEach((it, i) => {
      for (let l = 0; l < 2; l++) state.set(it.state.subarray(l * STATE, (l + 1) * STATE), (l * own.length + i) * STATE);
    });
    return { probs, state };
  });
  return { results, runs, ms };
}

/** The session options every Silero runner uses: one thread, no parallel operators (windows are tiny). */
export const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
