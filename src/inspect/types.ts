import type { InspectionEvent } from 'xstate';

/**
 * A live view of actors. Pass `inspect` as the `inspect` option of `createActor` or `AgentSession`; `stop()` flushes
 * and releases what the inspector holds (files, sockets). `inspect` never throws: XState would let the error escape
 * from `actor.start()` / `send()` and break the actor being watched.
 */
export interface Inspector {
  inspect: (event: InspectionEvent) => void;
  stop(): Promise<void>;
}

export type InspectionType = InspectionEvent['type'];
