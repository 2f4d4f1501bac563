/** Readable names for actors in inspection output: `session/activity/speech_3` instead of `x:7`. */
import type { AnyActorRef } from 'xstate';

type RefLike = AnyActorRef & { _parent?: RefLike; logic?: { id?: unknown } };

const names = new WeakMap<object, string>();

/**
 * The id a parent gave the actor, or its machine id when XState generated the id (`x:N`). Speech actors reuse a
 * few ids (`speech#0`…, see SpeechHandle), so they are named by their speech's own id.
 */
export function actorName(ref: AnyActorRef): string {
  const r = ref as RefLike;
  const logicId = typeof r.logic?.id === 'string' ? r.logic.id : undefined;
  if (logicId === 'speech') {
    // From the creation options: the snapshot cannot be read while the actor is being created.
    const speechId = (r as { options?: { input?: { id?: unknown } } }).options?.input?.id;
    if (typeof speechId === 'string') return speechId;
  }
  return /^x:\d+$/.test(r.id) && logicId ? logicId : r.id;
}

/** Names from the root actor down to this one, joined by `/`; cached, since an actor's parent never changes. */
export function actorPath(ref: AnyActorRef): string {
  const cached = names.get(ref);
  if (cached !== undefined) return cached;
  const parent = (ref as RefLike)._parent;
  const path = parent ? `${actorPath(parent)}/${actorName(ref)}` : actorName(ref);
  names.set(ref, path);
  return path;
}

export function machineIdOf(ref: AnyActorRef): string | undefined {
  const id = (ref as RefLike).logic?.id;
  return typeof id === 'string' ? id : undefined;
}
