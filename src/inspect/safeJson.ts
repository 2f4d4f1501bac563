/**
 * Converts any value into plain JSON data, bounded in size. Inspection sees actor snapshots and events that hold
 * RxJS subscriptions, actor refs (whose `system` points back at every actor), audio buffers and circular graphs:
 * serialising those naively either throws ("Converting circular structure to JSON") or writes megabytes per event.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface SafeJsonLimits {
  /** Nesting below this depth is summarised as "[Object]" / "[Array(n)]". */
  maxDepth?: number;
  /** Longer strings are cut, with the number of characters left out. */
  maxString?: number;
  /** Longer arrays keep their first items and say how many were left out. */
  maxArray?: number;
  /** Objects with more keys keep the first ones and say how many were left out. */
  maxKeys?: number;
}

const DEFAULT_LIMITS: Required<SafeJsonLimits> = { maxDepth: 6, maxString: 2000, maxArray: 50, maxKeys: 50 };

const isActorRef = (v: object): boolean =>
  typeof (v as { send?: unknown }).send === 'function' &&
  typeof (v as { getSnapshot?: unknown }).getSnapshot === 'function' &&
  typeof (v as { sessionId?: unknown }).sessionId === 'string';

// RxJS is recognised by shape, not by `instanceof`, so copies of rxjs from different packages are caught too.
const isObservable = (v: object): boolean =>
  typeof (v as { subscribe?: unknown }).subscribe === 'function' && typeof (v as { pipe?: unknown }).pipe === 'function';
const isSubscription = (v: object): boolean =>
  typeof (v as { unsubscribe?: unknown }).unsubscribe === 'function' && 'closed' in v;

const constructorName = (v: object): string => (v as { constructor?: { name?: string } }).constructor?.name || 'Object';

export function toSafeJson(value: unknown, limits: SafeJsonLimits = {}): Json {
  const l = { ...DEFAULT_LIMITS, ...limits };
  // Only the objects on the current path count as circular; the same object seen twice side by side is fine.
  const ancestors = new Set<object>();

  const cut = (s: string): string =>
    s.length > l.maxString ? `${s.slice(0, l.maxString)}…(+${s.length - l.maxString} chars)` : s;

  const walk = (v: unknown, depth: number): Json => {
    switch (typeof v) {
      case 'string':
        return cut(v);
      case 'number':
        return Number.isFinite(v) ? v : String(v);
      case 'boolean':
        return v;
      case 'bigint':
        return `${v}n`;
      case 'undefined':
        return null;
      case 'symbol':
        return v.toString();
      case 'function':
        return `[Function ${v.name || 'anonymous'}]`;
    }
    if (v === null) return null;
    const o = v as object;
    if (ancestors.has(o)) return '[Circular]';
    if (ArrayBuffer.isView(o)) {
      const n = o instanceof DataView ? o.byteLength : (o as unknown as ArrayLike<unknown>).length;
      return `[${constructorName(o)}(${n})]`;
    }
    if (o instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer)) {
      return `[${constructorName(o)}(${o.byteLength} bytes)]`;
    }
    if (o instanceof Date) return Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString();
    if (o instanceof RegExp) return String(o);
    if (o instanceof Promise) return '[Promise]';
    if (o instanceof WeakMap || o instanceof WeakSet) return `[${constructorName(o)}]`;
    if (isActorRef(o)) return `[Actor ${(o as { id: string }).id}]`;
    if (isObservable(o)) return `[${constructorName(o)}]`;
    if (isSubscription(o)) return `[${constructorName(o)}]`;
    if (o instanceof Error) {
      const e: { [key: string]: Json } = { name: o.name, message: cut(o.message) };
      const code = (o as { code?: unknown }).code;
      if (code !== undefined) e.code = walk(code, depth + 1);
      return e;
    }
    if (depth >= l.maxDepth) {
      if (Array.isArray(o)) return `[Array(${o.length})]`;
      if (o instanceof Map || o instanceof Set) return `[${constructorName(o)}(${o.size})]`;
      return `[${constructorName(o)}]`;
    }
    ancestors.add(o);
    try {
      if (Array.isArray(o) || o instanceof Set) {
        const items = Array.isArray(o) ? o : [...o];
        const out = items.slice(0, l.maxArray).map((x) => walk(x, depth + 1));
        if (items.length > l.maxArray) out.push(`…(+${items.length - l.maxArray} items)`);
        return out;
      }
      const entries: Array<[string, unknown]> =
        o instanceof Map ? [...o.entries()].map(([k, x]) => [typeof k === 'string' ? k : String(walk(k, l.maxDepth)), x]) : objectEntries(o);
      const out: { [key: string]: Json } = {};
      // Like JSON.stringify, keys whose value is undefined are left out.
      for (const [k, x] of entries.slice(0, l.maxKeys)) if (x !== undefined) out[k] = walk(x, depth + 1);
      if (entries.length > l.maxKeys) out['…'] = `+${entries.length - l.maxKeys} keys`;
      return out;
    } finally {
      ancestors.delete(o);
    }
  };
  return walk(value, 0);
}

/** Own enumerable properties; a throwing getter must not break inspection. */
function objectEntries(o: object): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const k of Object.keys(o)) {
    let v: unknown;
    try {
      v = (o as Record<string, unknown>)[k];
    } catch (err) {
      v = `[Getter threw: ${err instanceof Error ? err.message : String(err)}]`;
    }
    out.push([k, v]);
  }
  return out;
}
