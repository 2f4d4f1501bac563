/**
 * An inspector that keeps the state changes of machine actors in memory: one entry each time an actor's state value
 * or status changes (context-only updates are skipped). Handy in tests ("which states did the activity go
 * through?") and for a console trace via `onChange`.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { actorPath, machineIdOf } from './actorNames.ts';
import { toSafeJson, type Json } from './safeJson.ts';
import type { Inspector } from './types.ts';

export interface StateChange {
  /** Date.now() at the change (virtual time under fake timers). */
  t: number;
  /** Path of actor names from the root, e.g. `session/activity`. */
  actor: string;
  sessionId: string;
  /** The machine's id, e.g. `activity`. */
  machine: string | undefined;
  value: Json;
  status: string;
  /** Type of the event that caused the change (`xstate.init` for the first state). */
  event: string;
}

export interface StateChangeLogOptions {
  /** Called for every change, e.g. to print `formatStateChange(c)`. Errors it throws are swallowed and counted. */
  onChange?: (change: StateChange) => void;
  /** Keep at most this many changes, dropping the oldest (default 10 000). */
  limit?: number;
}

export interface StateChangeLog extends Inspector {
  readonly changes: readonly StateChange[];
  /** Changes were dropped to respect `limit`, or `onChange` threw, this many times. */
  readonly dropped: number;
  /** Changes of the actors whose path, last path segment or machine id equals `actor`. */
  of(actor: string): StateChange[];
  /** Just the formatted state values of `of(actor)`, e.g. ['listening', 'thinking', 'speaking']. */
  values(actor: string): string[];
  clear(): void;
}

/** `{ a: 'x', b: { c: 'y' } }` → `{a.x, b.c.y}`; a plain string stays as it is. */
export function formatStateValue(value: Json): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const leaves: string[] = [];
  const walk = (v: Json, prefix: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0) leaves.push(prefix);
      for (const k of keys) walk(v[k]!, prefix ? `${prefix}.${k}` : k);
    } else {
      leaves.push(`${prefix}.${typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
  };
  walk(value, '');
  return leaves.length === 1 ? leaves[0]! : `{${leaves.join(', ')}}`;
}

export function formatStateChange(c: StateChange): string {
  const status = c.status === 'active' ? '' : ` (${c.status})`;
  return `${c.actor}: ${formatStateValue(c.value)}${status} ← ${c.event}`;
}

export function stateChangeLog(options: StateChangeLogOptions = {}): StateChangeLog {
  const limit = options.limit ?? 10_000;
  let changes: StateChange[] = [];
  let dropped = 0;
  const last = new Map<string, string>();

  let stopped = false;

  const inspect = (ev: InspectionEvent) => {
    if (stopped || ev.type !== '@xstate.snapshot') return;
    const snapshot = ev.snapshot as { value?: unknown; status?: string };
    // Only machines have a state value; promise/observable/callback actors have nothing to chart.
    if (snapshot.value === undefined) return;
    try {
      const ref = ev.actorRef as AnyActorRef;
      const value = toSafeJson(snapshot.value);
      const status = snapshot.status ?? 'active';
      const key = `${JSON.stringify(value)}|${status}`;
      if (last.get(ref.sessionId) === key) return;
      last.set(ref.sessionId, key);
      // An ended actor never changes again; forget it so long sessions do not grow this map.
      if (status !== 'active') last.delete(ref.sessionId);
      const change: StateChange = {
        t: Date.now(),
        actor: actorPath(ref),
        sessionId: ref.sessionId,
        machine: machineIdOf(ref),
        value,
        status,
        event: ev.event.type,
      };
      changes.push(change);
      if (changes.length > limit) {
        changes.shift();
        dropped++;
      }
      options.onChange?.(change);
    } catch {
      dropped++;
    }
  };

  const matches = (c: StateChange, actor: string) =>
    c.actor === actor || c.machine === actor || c.actor.slice(c.actor.lastIndexOf('/') + 1) === actor;

  return {
    inspect,
    stop: async () => {
      stopped = true;
    },
    get changes() {
      return changes;
    },
    get dropped() {
      return dropped;
    },
    of: (actor) => changes.filter((c) => matches(c, actor)),
    values: (actor) => changes.filter((c) => matches(c, actor)).map((c) => formatStateValue(c.value)),
    clear: () => {
      changes = [];
      last.clear();
    },
  };
}
