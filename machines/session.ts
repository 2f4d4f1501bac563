import { and, assign, fromPromise, raise, setup, stopChild, type AnyActorRef } from 'xstate';

/**
 * The session's lifecycle `initializing → starting → running → closing → closed`, the handoff between agent
 * activities, the stack of running AgentTasks, and the user-away timer. Starting, handing off, starting and ending
 * a task and closing are promise actors the runtime provides; `close` reaches `closed` from every state, and a
 * closed session can start again.
 *
 * Tasks: `TASK_STARTED` pushes a task on `taskStack` (the caller's activity is paused, the task's runs); the task's
 * `TASK_COMPLETED`/`TASK_FAILED` ends it (its activity stops, the caller's resumes), innermost first. A task that
 * finishes while a task it awaits still runs ends that inner task first (as cancelled). A handoff requested while
 * a task runs is refused: only the agent at the bottom of the stack may hand the conversation to another agent.
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
  /** Running tasks, outermost first; the last one has the conversation. */
  taskStack: TaskEntry[];
  /** Tasks asked to start while the agent region was busy (a handoff, another task starting or ending). */
  taskRequests: TaskEntry[];
}

/** One AgentTask as plain data: the runtime's key for the object, its agent id, and how far it got. */
export interface TaskEntry {
  agent: string;
  id: string;
  status: 'starting' | 'running' | 'completed' | 'failed';
  error: ErrorInfo | null;
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
  | { type: 'CLOSE'; reason: CloseReason; error?: ErrorInfo; drain?: boolean }
  /** An AgentTask was awaited: `agent` is the runtime's key for it, `id` its agent id. */
  | { type: 'TASK_STARTED'; agent: string; id: string }
  | { type: 'TASK_COMPLETED'; agent: string }
  | { type: 'TASK_FAILED'; agent: string; error: ErrorInfo };

const top = (c: SessionContext): TaskEntry | undefined => c.taskStack[c.taskStack.length - 1];
const finished = (t: TaskEntry): boolean => t.status === 'completed' || t.status === 'failed';

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
    startTask: fromPromise<void, { agent: string }>(async () => {}),
    /** Stops the top task's activity and resumes its caller; `cancelled`: the task did not finish itself. */
    endTask: fromPromise<void, { agent: string; cancelled: boolean }>(async () => {}),
  },
  guards: {
    awayTimerEnabled: ({ context }) => context.userAwayTimeout !== null,
    bothListening: ({ context, event }) => {
      // In `armed` the guard runs before the new states are recorded, so it reads them from the event.
      const s = event.type === 'STATES_CHANGED' ? event : context;
      return s.agentState === 'listening' && s.userState === 'listening' && s.toolsRunning === 0;
    },
    hasPendingAgent: ({ context }) => context.pendingAgent !== null,
    hasTaskRequest: ({ context }) => context.taskRequests.length > 0,
    noTasks: ({ context }) => context.taskStack.length === 0,
    /** Some running task finished: the top one ends (cancelled, when it is not the one that finished). */
    someTaskFinished: ({ context }) => context.taskStack.some(finished),
    topFinished: ({ context }) => context.taskStack.length > 0 && finished(top(context)!),
    /** A recovered kind had failures counted (most recoveries find none: then the context is not copied). */
    hasErrorsToReset: ({ context, event }) => event.type === 'MODEL_RECOVERED' && event.kinds.some((k) => context.errorCounts[k] > 0),
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
    requestTask: assign({
      taskRequests: ({ context, event }) =>
        event.type === 'TASK_STARTED' ? [...context.taskRequests, { agent: event.agent, id: event.id, status: 'starting' as const, error: null }] : context.taskRequests,
    }),
    pushTask: assign(({ context }) => ({ taskStack: [...context.taskStack, context.taskRequests[0]!], taskRequests: context.taskRequests.slice(1) })),
    markTopRunning: assign({
      taskStack: ({ context }) => context.taskStack.map((t, i) => (i === context.taskStack.length - 1 && t.status === 'starting' ? { ...t, status: 'running' as const } : t)),
    }),
    recordTaskOutcome: assign(({ context, event }) => {
      const outcome = (t: TaskEntry): TaskEntry =>
        finished(t) ? t
        : event.type === 'TASK_COMPLETED' ? { ...t, status: 'completed' }
        : event.type === 'TASK_FAILED' ? { ...t, status: 'failed', error: event.error }
        : t;
      const isIt = (t: TaskEntry) => 'agent' in event && t.agent === event.agent;
      return {
        taskStack: context.taskStack.map((t) => (isIt(t) ? outcome(t) : t)),
        // A task that finishes before its turn came never starts.
        taskRequests: context.taskRequests.map((t) => (isIt(t) ? outcome(t) : t)),
      };
    }),
    failTopStart: assign({
      taskStack: ({ context, event }) =>
        context.taskStack.map((t, i) => (i === context.taskStack.length - 1 && !finished(t) ? { ...t, status: 'failed' as const, error: errorInfo((event as { error?: unknown }).error) } : t)),
    }),
    popTask: assign({ taskStack: ({ context }) => context.taskStack.slice(0, -1) }),
    clearTasks: assign({ taskStack: [], taskRequests: [] }),
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
    /** The task's await settles (after its caller resumed, so the caller's code runs in `active`/`inTask`). */
    settleTask: (_, _params: { agent: string }) => {},
    /** A handoff asked for while a task runs: refused with an error event. */
    refuseHandoff: (_, _params: { agent: string }) => {},
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
    taskStack: [],
    taskRequests: [],
  }),
  on: {
    // The runtime creates children in this actor's system (`parent`); only the parent may stop them.
    STOP_CHILD: { actions: stopChild(({ event }) => (event as { ref: AnyActorRef }).ref) },
    CLOSE: { target: '.closing', actions: 'recordClose' },
    STATES_CHANGED: { actions: 'recordStates' },
    // A task may finish at any moment (even before its turn to start came); the agent region acts on it.
    TASK_COMPLETED: { actions: 'recordTaskOutcome' },
    TASK_FAILED: { actions: 'recordTaskOutcome' },
  },
  states: {
    initializing: { on: { START: 'starting' } },
    starting: {
      // The first agent's onEnter may await a task before the start finished: it starts once running.
      on: { TASK_STARTED: { actions: 'requestTask' } },
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
              always: { guard: 'hasTaskRequest', target: 'startingTask' },
              on: {
                UPDATE_AGENT: { target: 'handingOff', actions: 'queueAgent' },
                TASK_STARTED: { target: 'startingTask', actions: 'requestTask' },
              },
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
              on: { UPDATE_AGENT: { actions: 'queueAgent' }, TASK_STARTED: { actions: 'requestTask' } },
            },
            /** The caller's activity pauses (its playing step ends first), the task's activity starts. */
            startingTask: {
              entry: 'pushTask',
              // Finished (or cancelled) before it took over: it ends now, without taking the conversation.
              always: { guard: 'topFinished', target: 'endingTask' },
              invoke: {
                src: 'startTask',
                input: ({ context }) => ({ agent: top(context)!.agent }),
                onDone: { target: 'inTask', actions: 'markTopRunning' },
                onError: { target: 'inTask', actions: 'failTopStart' },
              },
              on: {
                TASK_STARTED: { actions: 'requestTask' },
                UPDATE_AGENT: { actions: { type: 'refuseHandoff', params: ({ event }) => ({ agent: event.agent }) } },
              },
            },
            /** A task has the conversation; user turns go to its activity. */
            inTask: {
              always: [
                { guard: 'someTaskFinished', target: 'endingTask' },
                { guard: 'hasTaskRequest', target: 'startingTask' },
                { guard: 'noTasks', target: 'active' },
              ],
              on: {
                TASK_STARTED: { actions: 'requestTask' },
                UPDATE_AGENT: { actions: { type: 'refuseHandoff', params: ({ event }) => ({ agent: event.agent }) } },
              },
            },
            /** The top task's activity drains and stops, its context merges into the caller's, the caller resumes. */
            endingTask: {
              invoke: {
                src: 'endTask',
                input: ({ context }) => ({ agent: top(context)!.agent, cancelled: !finished(top(context)!) }),
                onDone: { target: 'inTask', actions: [{ type: 'settleTask', params: ({ context }) => ({ agent: top(context)!.agent }) }, 'popTask'] },
                onError: { target: 'inTask', actions: [{ type: 'settleTask', params: ({ context }) => ({ agent: top(context)!.agent }) }, 'popTask'] },
              },
              on: {
                TASK_STARTED: { actions: 'requestTask' },
                UPDATE_AGENT: { actions: { type: 'refuseHandoff', params: ({ event }) => ({ agent: event.agent }) } },
              },
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
            MODEL_RECOVERED: { guard: 'hasErrorsToReset', actions: 'resetErrors' },
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
      // The runtime rejects every running task's await; the stack is gone with the activities.
      exit: 'clearTasks',
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
