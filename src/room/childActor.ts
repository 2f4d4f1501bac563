import { createActor, type AnyActorLogic, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';

/**
 * Where a room input or output actor lives: under the session's root actor (so the session's system, its inspector
 * and its close reach it), or on its own when a part is used without a session (then `inspect` observes it).
 */
export interface ActorHome {
  parent?: AnyActorRef;
  systemId?: string;
  inspect?: Observer<InspectionEvent> | ((e: InspectionEvent) => void);
}

/** Creates and starts the actor in its home. */
export function startChild(logic: AnyActorLogic, home: ActorHome, input?: unknown): AnyActorRef {
  const actor = home.parent
    ? createActor(logic, { parent: home.parent, systemId: home.systemId, input })
    : createActor(logic, { inspect: home.inspect, input });
  actor.start();
  return actor;
}

/** Stops it: a child only through its parent (XState lets no one else stop it), a standalone actor itself. */
export function stopChild(actor: AnyActorRef, home: ActorHome): void {
  if (home.parent) home.parent.send({ type: 'STOP_CHILD', ref: actor });
  else actor.stop();
}
