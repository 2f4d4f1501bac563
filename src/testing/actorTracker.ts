import type { AnyActorRef, InspectionEvent } from 'xstate';

/** Every XState actor a session started, seen through the session's `inspect` option. */
export interface ActorTracker {
  /** Pass as `new AgentSession({ inspect: tracker.inspect })` (chain your own inspector with `forward`). */
  readonly inspect: (ev: InspectionEvent) => void;
  /** How many actors were started so far. */
  readonly started: number;
  /**
   * Actors still active, described as `id (systemId) [state]`, except the first root actor (the session's own:
   * a closed session stays alive so that it can start again).
   */
  live(): string[];
}

const describe = (ref: AnyActorRef): string => {
  const snap = ref.getSnapshot() as { value?: unknown };
  const state = snap && 'value' in snap ? ` [${JSON.stringify(snap.value)}]` : '';
  const systemId = (ref as { _systemId?: string })._systemId;
  // The machine's id says what it is; spawned children carry their own id, roots only a generated one.
  const machineId = (ref as { logic?: { id?: string } }).logic?.id;
  const name = machineId && ref.id.startsWith('x:') ? machineId : ref.id;
  return `${name}${systemId ? ` (${systemId})` : ''}${state}`;
};

export function trackActors(forward?: (ev: InspectionEvent) => void): ActorTracker {
  const refs = new Set<AnyActorRef>();
  let root: AnyActorRef | null = null;
  let started = 0;
  return {
    inspect: (ev) => {
      if (ev.type === '@xstate.actor') {
        started++;
        const ref = ev.actorRef as AnyActorRef;
        root ??= ref;
        if (ref !== root) refs.add(ref);
      }
      forward?.(ev);
    },
    get started() {
      return started;
    },
    live() {
      const alive: string[] = [];
      for (const ref of refs) {
        // Stopped, done and failed actors are released; keep the set small over long runs.
        if (ref.getSnapshot()?.status === 'active') alive.push(describe(ref));
        else refs.delete(ref);
      }
      return alive;
    },
  };
}
