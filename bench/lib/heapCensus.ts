/**
 * Heap-snapshot census for leak hunting: counts live objects per constructor (v8.getHeapSnapshot(), parsed here),
 * diffs two censuses, and prints the shortest strong retainer path from the GC roots to a sample of a class.
 * A diagnosis tool (see bench/lib/churnDiagnose.ts), not a benchmark.
 */
import { getHeapSnapshot } from 'node:v8';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Census {
  counts: Map<string, { count: number; bytes: number }>;
  /** The parsed snapshot (drop it before the next census, or it is counted there). */
  snap: Snapshot | null;
}

async function readSnapshot(): Promise<Snapshot> {
  const chunks: Buffer[] = [];
  for await (const c of getHeapSnapshot()) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Snapshot;
}

const kindOf = (s: Snapshot) => {
  const m = s.snapshot.meta;
  const nf = m.node_fields.length;
  const ti = m.node_fields.indexOf('type');
  const ni = m.node_fields.indexOf('name');
  const si = m.node_fields.indexOf('self_size');
  const ei = m.node_fields.indexOf('edge_count');
  return { nf, ti, ni, si, ei, types: m.node_types[0], ef: m.edge_fields.length, etypes: m.edge_types[0] };
};

/** Key of a node: its type and, for objects/closures, its constructor or function name. */
function keyOf(s: Snapshot, idx: number): string {
  const k = kindOf(s);
  const type = k.types[s.nodes[idx + k.ti]!]!;
  const name = s.strings[s.nodes[idx + k.ni]!]!;
  if (type === 'object' || type === 'closure' || type === 'native') return `${type}:${name}`;
  return `${type}`;
}

export async function census(): Promise<Census> {
  const snap = await readSnapshot();
  const k = kindOf(snap);
  const counts = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += k.nf) {
    const key = keyOf(snap, i);
    const e = counts.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + k.si]!;
    counts.set(key, e);
  }
  return { counts, snap };
}

/** Classes whose live count grew from `a` to `b`, most grown first. */
export function diff(a: Census, b: Census, top = 30) {
  const rows: Array<{ key: string; before: number; after: number; grew: number; bytesGrew: number }> = [];
  for (const [key, e] of b.counts) {
    const p = a.counts.get(key) ?? { count: 0, bytes: 0 };
    if (e.count > p.count) rows.push({ key, before: p.count, after: e.count, grew: e.count - p.count, bytesGrew: e.bytes - p.bytes });
  }
  return rows.sort((x, y) => y.bytesGrew - x.bytesGrew).slice(0, top);
}

/** Shortest strong path from the GC roots to up to `samples` nodes of `key` (weak edges skipped). */
export function retainers(c: Census, key: string, samples = 3, skip = 0): string[][] {
  const s = c.snap!;
  const k = kindOf(s);
  const nodeCount = s.nodes.length / k.nf;
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let n = 0, e = 0; n < nodeCount; n++) {
    firstEdge[n] = e;
    e += s.nodes[n * k.nf + k.ei]! * k.ef;
    firstEdge[n + 1] = e;
  }
  const parent = new Int32Array(nodeCount).fill(-1);
  const parentEdge = new Int32Array(nodeCount).fill(-1);
  const seen = new Uint8Array(nodeCount);
  const queue = new Uint32Array(nodeCount);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  seen[0] = 1;
  const weak = k.etypes.indexOf('weak');
  const shortcut = k.etypes.indexOf('shortcut');
  while (head < tail) {
    const n = queue[head++]!;
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += k.ef) {
      const et = s.edges[e]!;
      if (et === weak || et === shortcut) continue;
      // A WeakMap entry holds its value only while the key lives: not a retainer of its own.
      if (k.etypes[et] === 'internal' && s.strings[s.edges[e + 1]!]?.includes('part of key')) continue;
      const to = s.edges[e + 2]! / k.nf;
      if (seen[to]) continue;
      seen[to] = 1;
      parent[to] = n;
      parentEdge[to] = e;
      queue[tail++] = to;
    }
  }
  const edgeName = (e: number) => {
    const et = k.etypes[s.edges[e]!]!;
    const v = s.edges[e + 1]!;
    return et === 'element' || et === 'hidden' ? `[${v}]` : s.strings[v]!;
  };
  const out: string[][] = [];
  let skipped = 0;
  for (let n = 0; n < nodeCount && out.length < samples; n++) {
    if (keyOf(s, n * k.nf) !== key || !seen[n]) continue;
    if (skipped++ < skip) continue;
    const path: string[] = [];
    for (let m = n; m > 0 && parent[m]! >= 0; m = parent[m]!) path.unshift(`${keyOf(s, parent[m]! * k.nf)} --${edgeName(parentEdge[m]!)}-->`);
    path.push(key);
    out.push(path);
  }
  return out;
}
