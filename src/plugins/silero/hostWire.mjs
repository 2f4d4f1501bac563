// The framing between job processes and the worker's Silero inference host (inferenceHost.mjs) on its Unix socket.
// Plain JavaScript so that the host runs it from the sources and from dist/ without a TypeScript loader.
//
// A frame is a little-endian u32 length (of what follows), a u8 kind, then the kind's payload:
//   HELLO    client → host  JSON { modelPath }              the model this connection infers with
//   READY    host → client  JSON { inputNames }             the model is loaded
//   REFUSED  host → client  JSON { message }                it cannot be (no file, no model)
//   BATCH    client → host  u32 id, u32 b, i32 steps[b], f32 state[2·b·128], f32 input[Σsteps·576]
//   RESULT   host → client  u32 id, u32 runs, u32 merged, f32 ms, u32 n, f32 probs[n], f32 state[2·b·128]
//   FAILED   host → client  u32 id, UTF-8 message            the model call threw
// Arrays are copied out of the stream (its chunks carry no alignment), so a decoded frame owns its buffers.

import { IN, STATE } from './batchRun.mjs';

export const KIND = { HELLO: 1, READY: 2, REFUSED: 3, BATCH: 4, RESULT: 5, FAILED: 6 };

/** Frames above this are a broken peer, not a big batch (a batch of 1000 streams × 10 windows is 23 MB). */
export const MAX_FRAME = 64 * 1024 * 1024;

const frame = (kind, parts) => {
  const len = 1 + parts.reduce((n, p) => n + p.byteLength, 0);
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32LE(len, 0);
  out[4] = kind;
  let off = 5;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), off);
    off += p.byteLength;
  }
  return out;
};

const u32s = (...v) => Uint32Array.from(v);

export const encodeJson = (kind, value) => frame(kind, [Buffer.from(JSON.stringify(value))]);

export const encodeBatch = (id, { b, steps, state, input }) => frame(KIND.BATCH, [u32s(id, b), steps, state, input]);

export const encodeResult = (id, { runs, merged, ms, probs, state }) =>
  frame(KIND.RESULT, [u32s(id, runs, merged), Float32Array.of(ms), u32s(probs.length), probs, state]);

export const encodeFailed = (id, message) => frame(KIND.FAILED, [u32s(id), Buffer.from(message)]);

/** A copy of `count` elements of `Type` at `off` of `buf`, aligned. */
const copy = (Type, buf, off, count) => {
  const bytes = count * Type.BYTES_PER_ELEMENT;
  if (off + bytes > buf.length) throw new Error('frame shorter than its contents');
  const out = new Type(count);
  new Uint8Array(out.buffer).set(buf.subarray(off, off + bytes));
  return out;
};

/** A frame's kind and payload (without the length and kind bytes) as a message. */
export function decodeFrame(kind, p) {
  switch (kind) {
    case KIND.HELLO:
    case KIND.READY:
    case KIND.REFUSED:
      return { kind, ...JSON.parse(p.toString('utf8')) };
    case KIND.BATCH: {
      const [id, b] = copy(Uint32Array, p, 0, 2);
      const steps = copy(Int32Array, p, 8, b);
      const n = steps.reduce((s, k) => s + k, 0);
      const state = copy(Float32Array, p, 8 + 4 * b, 2 * b * STATE);
      const input = copy(Float32Array, p, 8 + 4 * b + 4 * state.length, n * IN);
      return { kind, id, b, steps, state, input };
    }
    case KIND.RESULT: {
      const [id, runs, merged] = copy(Uint32Array, p, 0, 3);
      const [ms] = copy(Float32Array, p, 12, 1);
      const [n] = copy(Uint32Array, p, 16, 1);
      const probs = copy(Float32Array, p, 20, n);
      const state = copy(Float32Array, p, 20 + 4 * n, (p.length - 20 - 4 * n) / 4);
      return { kind, id, runs, merged, ms, probs, state };
    }
    case KIND.FAILED:
      return { kind, id: p.readUInt32LE(0), message: p.subarray(4).toString('utf8') };
    default:
      throw new Error(`unknown frame kind ${kind}`);
  }
}

/**
 * Cuts a byte stream into messages: `push(chunk)` returns the messages completed by it. Throws on a frame that
 * cannot be one (too long, unknown kind, contents shorter than declared): the connection is then unusable.
 */
export function frameReader() {
  let buf = Buffer.alloc(0);
  return {
    push(chunk) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const out = [];
      while (buf.length >= 4) {
        const len = buf.readUInt32LE(0);
        if (len < 1 || len > MAX_FRAME) throw new Error(`bad frame length ${len}`);
        if (buf.length < 4 + len) break;
        out.push(decodeFrame(buf[4], buf.subarray(5, 4 + len)));
        buf = buf.subarray(4 + len);
      }
      return out;
    },
  };
}
