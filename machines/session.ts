import { and, assign, fromPromise, raise, setup, stopChild, type AnyActorRef } from 'xstate';

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
  pendingAgent: string | null;
  /** Agent the running handoff is switching to. */
  handoffAgent: string | null;
  closeReason: CloseReason | null;
  closeError: ErrorInfo | null;
  drain: boolean;
  /** Unrecoverable errors per model kind since that kind last worked; more than `maxUnrecoverableErrors` closes. */
  errorCounts: { llm: number; stt: number; tts: number };
  maxUnrecoverableErrors: number;
}

export type ModelKind = 'llm' | 'stt' | 'tts';

/** An error as plain data (the context must survive JSON). */
export interface ErrorInfo {
  name: string;
  message: string;
}

export const errorInfo = (e: unknown): ErrorInfo =>
  e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };

export type SessionEvent =
  | { type: 'START' }
  /** `agent` is the runtime's key for the Agent object (the context holds plain data only). */
  | { type: 'UPDATE_AGENT'; agent: string }
  | { type: 'STATES_CHANGED'; agentState: string; userState: string; toolsRunning: number }
  | { type: 'FINAL_TRANSCRIPT' }
  /** An unrecoverable model error (a retried one never counts). */
  | { type: 'MODEL_FAILED'; kind: ModelKind; error: ErrorInfo }
  /** The kind worked again (the agent spoke: llm and tts; a final transcript: stt). */
  | { type: 'MODEL_RECOVERED'; kinds: ModelKind[] }
  /** Stops a child the runtime created under this actor (an activity, the output channel). */
  | { type: 'STOP_CHILD'; ref: AnyActorRef }
  | { type: 'CLOSE'; reason: CloseReason; error?: ErrorInfo; drain?: boolean };

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as { userAwayTimeout: number | null; maxUnrecoverableErrors?: number },
  },
  actors: {
    startSession: fromPromise<void>(async () => {}),
    handoff: fromPromise<void, { agent: string }>(async () => {}),
    closeSession: fromPromise<void, { reason: CloseReason; error: ErrorInfo | null; drain: boolean }>(async () => {}),
  },
  guards: {
    awayTimerEnabled: ({ context }) => context.userAwayTimeout !== null,
    bothListening: ({ context, event }) => {
      // In `armed` the guard runs before the new states are recorded, so it reads them from the event.
      const s = event.type === 'STATES_CHANGED' ? event : context;
      return s.agentState === 'listening' && s.userState === 'listening' && s.toolsRunning === 0;
    },
    hasPendingAgent: ({ context }) => context.pendingAgent !== null,
    errorBudgetSpent: ({ context, event }) =>
      event.type === 'MODEL_FAILED' && context.errorCounts[event.kind] + 1 > context.maxUnrecoverableErrors,
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
    countError: assign({
      errorCounts: ({ context, event }) =>
        event.type === 'MODEL_FAILED' ? { ...context.errorCounts, [event.kind]: context.errorCounts[event.kind] + 1 } : context.errorCounts,
    }),
    resetErrors: assign({
      errorCounts: ({ context, event }) => {
        if (event.type !== 'MODEL_RECOVERED') return context.errorCounts;
        const next = { ...context.errorCounts };
        for (const k of event.kinds) next[k] = 0;
        return next;
      },
    }),
    closeForError: raise(({ event }) => ({ type: 'CLOSE' as const, reason: 'error' as const, error: event.type === 'MODEL_FAILED' ? event.error : undefined })),
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
    errorCounts: { llm: 0, stt: 0, tts: 0 },
    maxUnrecoverableErrors: input.maxUnrecoverableErrors ?? 3,
  }),
  on: {
    // The runtime creates children in this actor's system (`parent`); only the parent may stop them.
    STOP_CHILD: { actions: stopChild(({ event }) => (event as { ref: AnyActorRef }).ref) },
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
            assign({ closeReason: 'error', closeError: ({ event }) => errorInfo(event.error) }),
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
                input: ({ context }) => ({ agent: context.handoffAgent ?? '' }),
                onDone: [{ guard: 'hasPendingAgent', target: 'handingOff', reenter: true }, { target: 'active' }],
                onError: [{ guard: 'hasPendingAgent', target: 'handingOff', reenter: true }, { target: 'active' }],
              },
              on: { UPDATE_AGENT: { actions: 'queueAgent' } },
            },
          },
        },
        /** The unrecoverable-error budget: a kind that keeps failing closes the session with reason `error`. */
        errors: {
          on: {
            MODEL_FAILED: [
              { guard: 'errorBudgetSpent', actions: ['countError', 'closeForError'] },
              { actions: 'countError' },
            ],
            MODEL_RECOVERED: { actions: 'resetErrors' },
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
      on: {
        START: {
          target: 'starting',
          actions: assign({ closeReason: null, closeError: null, drain: false, errorCounts: { llm: 0, stt: 0, tts: 0 } }),
        },
      },
    },
  },
});
