// The worker's Silero inference host: `node inferenceHost.mjs <socket path>`, forked by the worker (with an IPC
// channel) so that its job processes need not each load onnxruntime and the model (39 MB of an idle job process).
// Job processes connect over the Unix socket (framing: hostWire.mjs); every connection names its model file once,
// then sends batches of requests. The batches queued from all connections while a model call runs are merged into
// the next turn (batchRun.mjs), so concurrent sessions of different job processes share each model call.
// Plain JavaScript so that it runs the same from the sources and from dist/. onnxruntime is imported at the first
// connection: a worker whose agent never uses Silero pays for a bare node process only.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { runBatches, SESSION_OPTIONS } from './batchRun.mjs';
import { encodeFailed, encodeJson, encodeResult, frameReader, KIND } from './hostWire.mjs';

const socketPath = process.argv[2];
if (!socketPath) {
  console.error('inferenceHost: the socket path is missing');
  process.exit(2);
}

let ort = null;
/** Model file → its session (loading or loaded); a failed load is forgotten so that a later hello retries. */
const sessions = new Map();
const load = (modelPath) => {
  let s = sessions.get(modelPath);
  if (!s) {
    s = (async () => {
      ort ??= await import('onnxruntime-node');
      return ort.InferenceSession.create(modelPath, SESSION_OPTIONS);
    })();
    sessions.set(modelPath, s);
    s.catch(() => sessions.delete(modelPath));
  }
  return s;
};

/** Batches waiting for the next turn: { conn, id, session, batch }. */
let queue = [];
let running = false;
const stats = { runs: 0, windows: 0, merged: 0 };

const write = (conn, buf) => {
  if (!conn.destroyed) conn.write(buf);
};

const server = createServer((conn) => {
  const reader = frameReader();
  let session = null;
  conn.on('error', () => {}); // a job process that went away; its close drops its batches
  conn.on('close', () => (queue = queue.filter((q) => q.conn !== conn)));
  conn.on('data', (chunk) => {
    let messages;
    try {
      messages = reader.push(chunk);
    } catch {
      conn.destroy(); // not our framing: nothing it sends can be trusted
      return;
    }
    for (const m of messages) {
      if (m.kind === KIND.HELLO) {
        load(m.modelPath).then(
          (s) => {
            session = s;
            write(conn, encodeJson(KIND.READY, { inputNames: s.inputNames }));
          },
          (e) => write(conn, encodeJson(KIND.REFUSED, { message: String(e?.message ?? e) })),
        );
      } else if (m.kind === KIND.BATCH) {
        if (!session) write(conn, encodeFailed(m.id, 'no model loaded on this connection (HELLO first)'));
        else {
          queue.push({ conn, id: m.id, session, batch: m });
          if (!running) setImmediate(run);
        }
      }
    }
  });
});

async function run() {
  if (running || !queue.length) return;
  running = true;
  const taken = queue;
  queue = [];
  try {
    for (const session of new Set(taken.map((q) => q.session))) {
      const mine = taken.filter((q) => q.session === session);
      try {
        const { results, runs, ms } = await runBatches(session, ort.Tensor, mine.map((q) => q.batch));
        stats.runs += runs;
        stats.merged += mine.length;
        mine.forEach((q, i) => {
          stats.windows += results[i].probs.length;
          write(q.conn, encodeResult(q.id, { runs, merged: mine.length, ms, ...results[i] }));
        });
      } catch (e) {
        for (const q of mine) write(q.conn, encodeFailed(q.id, String(e?.message ?? e)));
      }
    }
  } finally {
    running = false;
    if (queue.length) setImmediate(run);
  }
}

// A socket file left by a host that crashed would make listen() fail; the directory is the worker's own.
rmSync(socketPath, { force: true });
server.on('error', (e) => {
  console.error(`inferenceHost: cannot listen on ${socketPath}: ${e.message}`);
  process.exit(1);
});
server.listen(socketPath, () => process.send?.({ type: 'listening', pid: process.pid }));
// The worker asks for the model calls made (benchmarks) and pings; it going away ends the host (no orphans).
process.on('message', (m) => {
  if (m?.type === 'stats') process.send?.({ type: 'stats', ...stats });
  else if (m?.type === 'ping') process.send?.({ type: 'pong' }); // the worker kills a host that stops answering
});
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => {}); // Ctrl+C reaches the whole group: the worker decides when the host ends
