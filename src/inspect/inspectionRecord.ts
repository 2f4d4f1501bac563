/**
 * One inspection event as a small, JSON-safe record: who (actor path), what (event / state value / action), when.
 * Whole snapshots are never included: they hold children, the actor system and RxJS subscriptions.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { actorPath, machineIdOf } from './actorNames.ts';
import { toSafeJson, type Json, type SafeJsonLimits } from './safeJson.ts';

export interface InspectionRecord {
  /** Date.now() when the event was seen (virtual time under fake timers). */
  t: number;
  type: InspectionEvent['type'];
  /** Path of actor names from the root, e.g. `session/activity/speech_2`. */
  actor: string;
  /** XState's unique id of the actor (`x:N`). */
  sessionId: string;
  [field: string]: Json | undefined;
}

export interface RecordOptions {
  /** Include the (size-limited) machine context in snapshot records. Off by default: contexts can be large. */
  context?: boolean;
  /** Limits for event payloads, contexts, outputs and errors. */
  limits?: SafeJsonLimits;
}

type Snapshotish = { status?: string; value?: unknown; context?: unknown; output?: unknown; error?: unknown };

/** The fields of a snapshot worth showing: status, state value, and output or error once the actor has ended. */
export function snapshotFields(snapshot: unknown, opts: RecordOptions = {}): Record<string, Json> {
  const s = (snapshot ?? {}) as Snapshotish;
  const out: Record<string, Json> = {};
  if (typeof s.status === 'string') out.status = s.status;
  // State values are plain strings/objects, but they still go through the converter so nothing unexpected leaks.
  if (s.value !== undefined) out.value = toSafeJson(s.value, opts.limits);
  if (opts.context && s.context !== undefined) out.context = toSafeJson(s.context, opts.limits);
  if (s.status === 'done' && s.output !== undefined) out.output = toSafeJson(s.output, opts.limits);
  if (s.status === 'error') out.error = toSafeJson(s.error, opts.limits);
  return out;
}

export function toInspectionRecord(ev: InspectionEvent, opts: RecordOptions = {}): InspectionRecord {
  const ref = ev.actorRef as AnyActorRef;
  const base: InspectionRecord = { t: Date.now(), type: ev.type, actor: actorPath(ref), sessionId: ref.sessionId };
  switch (ev.type) {
    case '@xstate.actor': {
      const parent = (ref as AnyActorRef & { _parent?: AnyActorRef })._parent;
      const machine = machineIdOf(ref);
      if (machine !== undefined) base.machine = machine;
      if (parent) base.parent = parent.sessionId;
      return base;
    }
    case '@xstate.event':
      if (ev.sourceRef) base.source = actorPath(ev.sourceRef as AnyActorRef);
      base.event = toSafeJson(ev.event, opts.limits);
      return base;
    case '@xstate.snapshot':
      return { ...base, event: ev.event.type, ...snapshotFields(ev.snapshot, opts) };
    case '@xstate.microstep': {
      const transitions = ev._transitions.map((tr) => ({
        source: tr.source.id,
        targets: (tr.target ?? []).map((n) => n.id),
      }));
      return { ...base, event: ev.event.type, ...snapshotFields(ev.snapshot, { limits: opts.limits }), transitions };
    }
    case '@xstate.action': {
      base.action = typeof ev.action.type === 'string' ? ev.action.type : String(ev.action.type);
      if (ev.action.params !== undefined) base.params = toSafeJson(ev.action.params, opts.limits);
      return base;
    }
    default:
      return base;
  }
}
