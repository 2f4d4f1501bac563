import { createActor, fromPromise, type Actor, type ActorSystem, type InspectionEvent, type Observer } from 'xstate';
import { sessionMachine, type CloseReason, type ErrorInfo } from '../../machines/session.ts';
import { wiringTable } from './wiring.ts';

/** The system of an actor of any machine (its events are not this file's concern). */
type AnyActorSystem = ActorSystem<any>;

/** What the session machine's named actors and actions do for one session (the AgentSession facade). */
export interface SessionEffects {
  start(): Promise<void>;
  handoff(agent: string): Promise<void>;
  startTask(agent: string, signal: AbortSignal): Promise<void>;
  endTask(agent: string, cancelled: boolean): Promise<void>;
  close(reason: CloseReason, error: ErrorInfo | null, drain: boolean): Promise<void>;
  fenceCurrentActivity(): void;
  markUserAway(): void;
  startFailed(error: unknown): void;
  settleTask(agent: string): void;
  refuseHandoff(agent: string): void;
}

/**
 * Each session's effects, by its actor system (the session machine is the system's root, so the system is the
 * session); the machine is provided once per process (see wiring.ts: ~30 KB per session).
 */
const effectsOf = wiringTable<SessionEffects>('session machine');

const wiredSessionMachine = sessionMachine.provide({
  actors: {
    startSession: fromPromise(async ({ system }) => effectsOf.of(system).start()),
    handoff: fromPromise(async ({ input, system }: { input: { agent: string }; system: AnyActorSystem }) => effectsOf.of(system).handoff(input.agent)),
    startTask: fromPromise(async ({ input, signal, system }: { input: { agent: string }; signal: AbortSignal; system: AnyActorSystem }) =>
      effectsOf.of(system).startTask(input.agent, signal),
    ),
    endTask: fromPromise(async ({ input, system }: { input: { agent: string; cancelled: boolean }; system: AnyActorSystem }) =>
      effectsOf.of(system).endTask(input.agent, input.cancelled),
    ),
    closeSession: fromPromise(
      async ({ input, system }: { input: { reason: CloseReason; error: ErrorInfo | null; drain: boolean }; system: AnyActorSystem }) =>
        effectsOf.of(system).close(input.reason, input.error, input.drain),
    ),
  },
  actions: {
    fenceCurrentActivity: ({ system }) => effectsOf.of(system).fenceCurrentActivity(),
    markUserAway: ({ system }) => effectsOf.of(system).markUserAway(),
    reportStartFailure: ({ system }, { error }) => effectsOf.of(system).startFailed(error),
    settleTask: ({ system }, { agent }) => effectsOf.of(system).settleTask(agent),
    refuseHandoff: ({ system }, { agent }) => effectsOf.of(system).refuseHandoff(agent),
  },
});

/** The session's root actor (not started), acting through `effects`. */
export function createSessionActor(
  effects: SessionEffects,
  input: { userAwayTimeout: number | null; maxUnrecoverableErrors: number },
  inspect: Observer<InspectionEvent> | ((e: InspectionEvent) => void) | undefined,
): Actor<typeof sessionMachine> {
  const actor = createActor(wiredSessionMachine, { input, inspect });
  effectsOf.set(actor.system, effects);
  return actor;
}
