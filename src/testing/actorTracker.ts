import type { AnyActorRef, InspectionEvent } from 'xstate';

/** Every XState actor a session started, seen through the session's `inspect` option. */
export interface ActorTracker {
  /** Pass as `new AgentSession({ inspect: tracker.inspect })` (chain your own inspector with `opts.forward`). */
  readonly inspect: (ev: InspectionEvent) => void;
  /** How many actors were started so far. */
  readonly started: number;
  /**
   * Actors still active, described as `id (systemId) [state]`, except the session's own root actor (a root running
   * the `session` machine: a closed session stays alive so that it can start again) and those `keep` accepts.
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

const isSessionRoot = (ref: AnyActorRef) =>
  (ref as { _parent?: unknown })._parent === undefined && (ref as { logic?: { id?: string } }).logic?.id === 'session';

export function trackActors(opts: { forward?: (ev: InspectionEvent) => void; keep?: (ref: AnyActorRef) => boolean } = {}): ActorTracker {
  const refs = new Set<AnyActorRef>();
  let started = 0;
  return {
    inspect: (ev) => {
      if (ev.type === '@xstate.actor') {
        started++;
        const ref = ev.actorRef as AnyActorRef;
        if (!isSessionRoot(ref) && !opts.keep?.(ref)) refs.add(ref);
      }
      opts.forward?.(ev);
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
