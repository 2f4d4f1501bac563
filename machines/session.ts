import { and, assign, fromPromise, setup } from 'xstate';

/**
 * The session's lifecycle `initializing → starting → running → closing → closed`, the handoff between agent
 * activities, and the user-away timer. Starting, handing off and closing are promise actors the runtime provides;
 * `close` reaches `closed` from every state, and a closed session can start again.
 */
export type CloseReason = 'user_initiated' | 'error' | 'participant_disconnected' | 'job_shutdown';

export interface SessionContext {
  userAwayTimeout: number | null;
  agentState: string;
  userState: string;
  toolsRunning: number;
  /** Agent waiting for its turn to become current (a second update while one handoff runs). */
  pendingAgent: unknown;
  /** Agent the running handoff is switching to. */
  handoffAgent: unknown;
  closeReason: CloseReason | null;
  closeError: unknown;
  drain: boolean;
}

export type SessionEvent =
  | { type: 'START' }
  | { type: 'UPDATE_AGENT'; agent: unknown }
  | { type: 'STATES_CHANGED'; agentState: string; userState: string; toolsRunning: number }
  | { type: 'FINAL_TRANSCRIPT' }
  | { type: 'CLOSE'; reason: CloseReason; error?: unknown; drain?: boolean };

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as { userAwayTimeout: number | null },
  },
  actors: {
    startSession: fromPromise<void>(async () => {}),
    handoff: fromPromise<void, { agent: unknown }>(async () => {}),
    closeSession: fromPromise<void, { reason: CloseReason; error: unknown; drain: boolean }>(async () => {}),
  },
  guards: {
    awayTimerEnabled: ({ context }) => context.userAwayTimeout !== null,
    bothListening: ({ context, event }) => {
      // In `armed` the guard runs before the new states are recorded, so it reads them from the event.
      const s = event.type === 'STATES_CHANGED' ? event : context;
      return s.agentState === 'listening' && s.userState === 'listening' && s.toolsRunning === 0;
    },
    hasPendingAgent: ({ context }) => context.pendingAgent !== null,
  },
  delays: {
    userAwayTimeout: ({ context }) => context.userAwayTimeout ?? 0,
  },
  actions: {
    recordStates: assign(({ event }) =>
      event.type === 'STATES_CHANGED'
        ? { agentState: event.agentState, userState: event.userState, toolsRunning: event.toolsRunning }
        : {},
    ),
    recordClose: assign(({ event }) =>
      event.type === 'CLOSE' ? { closeReason: event.reason, closeError: event.error ?? null, drain: !!event.drain } : {},
    ),
    queueAgent: assign({ pendingAgent: ({ event }) => (event.type === 'UPDATE_AGENT' ? event.agent : null) }),
    takePendingAgent: assign(({ context }) => ({ handoffAgent: context.pendingAgent, pendingAgent: null })),
    // Effects, provided by the runtime:
    fenceCurrentActivity: () => {},
    markUserAway: () => {},
    reportStartFailure: (_, _params: { error: unknown }) => {},
  },
}).createMachine({
  id: 'session',
  initial: 'initializing',
  context: ({ input }) => ({
    userAwayTimeout: input.userAwayTimeout,
    agentState: 'initializing',
    userState: 'listening',
    toolsRunning: 0,
    pendingAgent: null,
    handoffAgent: null,
    closeReason: null,
    closeError: null,
    drain: false,
  }),
  on: {
    CLOSE: { target: '.closing', actions: 'recordClose' },
    STATES_CHANGED: { actions: 'recordStates' },
  },
  states: {
    initializing: { on: { START: 'starting' } },
    starting: {
      invoke: {
        src: 'startSession',
        onDone: 'running',
        onError: {
          target: 'closing',
          actions: [
            { type: 'reportStartFailure', params: ({ event }) => ({ error: event.error }) },
            assign({ closeReason: 'error', closeError: ({ event }) => event.error }),
          ],
        },
      },
    },
    running: {
      type: 'parallel',
      states: {
        agent: {
          initial: 'active',
          states: {
            active: {
              on: { UPDATE_AGENT: { target: 'handingOff', actions: 'queueAgent' } },
            },
            /** The old activity is fenced on entry, before any new user turn can reach it. */
            handingOff: {
              entry: ['fenceCurrentActivity', 'takePendingAgent'],
              invoke: {
                src: 'handoff',
                input: ({ context }) => ({ agent: context.handoffAgent }),
                onDone: [{ guard: 'hasPendingAgent', target: 'handingOff', reenter: true }, { target: 'active' }],
                onError: [{ guard: 'hasPendingAgent', target: 'handingOff', reenter: true }, { target: 'active' }],
              },
              on: { UPDATE_AGENT: { actions: 'queueAgent' } },
            },
          },
        },
        away: {
          initial: 'disarmed',
          states: {
            disarmed: {
              always: { guard: and(['awayTimerEnabled', 'bothListening']), target: 'armed' },
            },
            armed: {
              after: { userAwayTimeout: { target: 'disarmed', actions: 'markUserAway' } },
              on: {
                STATES_CHANGED: [
                  // Unrelated updates leave the timer running; any change away from "both listening" stops it.
                  { guard: 'bothListening', actions: 'recordStates' },
                  { target: 'disarmed', actions: 'recordStates' },
                ],
                // A final transcript while both listen means the user is present: start counting again.
                FINAL_TRANSCRIPT: { target: 'armed', reenter: true },
              },
            },
          },
        },
      },
    },
    closing: {
      invoke: {
        src: 'closeSession',
        input: ({ context }) => ({ reason: context.closeReason ?? 'user_initiated', error: context.closeError, drain: context.drain }),
        onDone: 'closed',
        onError: 'closed',
      },
      on: { CLOSE: {} },
    },
    closed: {
      on: { START: { target: 'starting', actions: assign({ closeReason: null, closeError: null, drain: false }) } },
    },
  },
});
