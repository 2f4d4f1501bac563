import type { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent, AgentSessionEventType, EventOf } from '../session/events.ts';

export interface EventRecorder {
  readonly events: AgentSessionEvent[];
  of<T extends AgentSessionEventType>(type: T): EventOf<T>[];
  /** `agent_state_changed` new states in order, e.g. ['listening', 'thinking', 'speaking', 'listening']. */
  agentStates(): string[];
  userStates(): string[];
  stop(): void;
}

/** Records every session event (through `events$`) for assertions. */
export function recordEvents(session: AgentSession<any>): EventRecorder {
  const events: AgentSessionEvent[] = [];
  const sub = session.events$.subscribe((e) => events.push(e));
  const of = <T extends AgentSessionEventType>(type: T) => events.filter((e): e is EventOf<T> => e.type === type);
  return {
    events,
    of,
    agentStates: () => of('agent_state_changed').map((e) => e.newState),
    userStates: () => of('user_state_changed').map((e) => e.newState),
    stop: () => sub.unsubscribe(),
  };
}
