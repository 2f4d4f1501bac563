/**
 * A minimal ONNX protobuf encoder, enough to write tiny models in the tests themselves (no model files are
 * downloaded or committed): ModelProto → GraphProto with nodes, initializers, inputs and outputs.
 * Field numbers follow onnx/onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, ...).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ------------------------------------------------------------------ protobuf wire format

class Writer {
  private readonly parts: number[] = [];

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      this.parts.push(byte);
    } while (x);
    return this;
  }
  private key(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    return this.key(field, 0).varint(v);
  }
  bytes(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }
  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.parts.push(x);
    return this;
  }
  packedInts(field: number, vs: readonly (number | bigint)[]): this {
    const inner = new Writer();
    for (const v of vs) inner.varint(v);
    return this.bytes(field, inner.finish());
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

// ------------------------------------------------------------------ ONNX messages

export const FLOAT = 1;
export const INT64 = 7;

export type Dim = number | string;
export interface ValueInfo {
  name: string;
  elemType?: number;
  dims: Dim[];
}
export interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}
export type Attribute =
  | { name: string; int: number }
  | { name: string; ints: number[] }
  | { name: string; float: number };
export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Attribute[];
}
export interface Graph {
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: Initializer[];
  opset?: number;
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, v.elemType ?? FLOAT).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function tensor(t: Initializer): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); // raw_data, little-endian
  return w;
}

function attribute(a: Attribute): Writer {
  const w = new Writer().string(1, a.name);
  // AttributeProto.type: FLOAT = 1, INT = 2, INTS = 7
  if ('int' in a) return w.int(3, a.int).int(20, 2);
  if ('float' in a) return w.float(2, a.float).int(20, 1);
  return w.packedInts(8, a.ints).int(20, 7);
}

function node(n: Node, i: number): Writer {
  const w = new Writer();
  for (const x of n.inputs) w.string(1, x);
  for (const x of n.outputs) w.string(2, x);
  w.string(3, `n${i}`).string(4, n.op);
  for (const a of n.attributes ?? []) w.message(5, attribute(a));
  return w;
}

/** Serialises a model: IR version 8, the default ONNX domain at `opset` (default 17). */
export function encodeModel(g: Graph): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, 'test-graph');
  for (const t of g.initializers ?? []) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const opset = new Writer().string(1, '').int(2, g.opset ?? 17);
  return new Writer().int(1, 8).string(2, 'voicechart-tests').message(7, graph).message(8, opset).finish();
}

let counter = 0;
/** Writes the model to a fresh temporary file and returns its path. */
export function writeModel(g: Graph, name = 'model'): string {
  const path = join(tmpdir(), `voicechart-${name}-${process.pid}-${counter++}.onnx`);
  writeFileSync(path, encodeModel(g));
  return path;
}

// ------------------------------------------------------------------ the Smart Turn-shaped test models

const scalar = (name: string, v: number): Initializer => ({ name, dims: [], data: new Float32Array([v]) });

/**
 * `input_features [batch, 80, 800]` → `probs [batch, 1]` = sigmoid(scale · mean(features) + bias): the tests can
 * compute the same number from the features they expect the detector to send.
 */
export function whisperShapedModel(scale: number, bias: number, batch: Dim = 1): Graph {
  return {
    inputs: [{ name: 'input_features', dims: [batch, 80, 800] }],
    outputs: [{ name: 'probs', dims: [batch, 1] }],
    initializers: [scalar('scale', scale), scalar('bias', bias)],
    nodes: [
      { op: 'ReduceMean', inputs: ['input_features'], outputs: ['perMel'], attributes: [{ name: 'axes', ints: [2] }, { name: 'keepdims', int: 0 }] },
      { op: 'ReduceMean', inputs: ['perMel'], outputs: ['mean'], attributes: [{ name: 'axes', ints: [1] }, { name: 'keepdims', int: 1 }] },
      { op: 'Mul', inputs: ['mean', 'scale'], outputs: ['scaled'] },
      { op: 'Add', inputs: ['scaled', 'bias'], outputs: ['logit'] },
      { op: 'Sigmoid', inputs: ['logit'], outputs: ['probs'] },
    ],
  };
}

/**
 * `audio [batch, 128000]` → `probs [batch, 1]` = sigmoid(scale · (x² · w) + bias) with a fixed MatMul weight `w`
 * that averages the energy of the last `tailSamples` samples (the newest audio).
 */
export function rawAudioModel(scale: number, bias: number, tailSamples = 1600, batch: Dim = 1): Graph {
  const w = new Float32Array(128000);
  w.fill(1 / tailSamples, 128000 - tailSamples);
  return {
    inputs: [{ name: 'audio', dims: [batch, 128000] }],
    outputs: [{ name: 'probs', dims: [batch, 1] }],
    initializers: [{ name: 'w', dims: [128000, 1], data: w }, scalar('scale', scale), scalar('bias', bias)],
    nodes: [
      { op: 'Mul', inputs: ['audio', 'audio'], outputs: ['energy'] },
      { op: 'MatMul', inputs: ['energy', 'w'], outputs: ['tail'] },
      { op: 'Mul', inputs: ['tail', 'scale'], outputs: ['scaled'] },
      { op: 'Add', inputs: ['scaled', 'bias'], outputs: ['logit'] },
      { op: 'Sigmoid', inputs: ['logit'], outputs: ['probs'] },
    ],
  };
}

/** A model that loads but fails on every run: 128000 samples cannot be reshaped to [7, -1]. */
export function throwingModel(): Graph {
  return {
    inputs: [{ name: 'audio', dims: ['batch', 128000] }],
    outputs: [{ name: 'probs', dims: [7, 'n'] }],
    initializers: [{ name: 'shape', dims: [2], data: BigInt64Array.from([7n, -1n]) }],
    nodes: [{ op: 'Reshape', inputs: ['audio', 'shape'], outputs: ['probs'] }],
  };
}

/** A valid model whose input is neither Smart Turn signature. */
export function unrelatedModel(): Graph {
  return {
    inputs: [{ name: 'x', dims: [1, 4] }],
    outputs: [{ name: 'y', dims: [1, 4] }],
    nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['y'] }],
  };
}
