import { assign, setup } from 'xstate';

/**
 * One job, seen from the worker: the server's availability request, the assignment, the job process running it,
 * and its end. Every wait has a bound:
 *
 *   requested ──accept──▶ awaitingAssignment ──assigned──▶ launching ──started──▶ running ──▶ ending ──▶ done
 *       │ reject / requestTimeout   │ assignmentTimeout        │ launchTimeout        │ crash / hang / memory
 *       ▼                           ▼                          ▼                      ▼
 *    declined                     done (failed)             killing ──────────────▶ done (failed)
 *
 * `running` expects a pong from its process at least every `pingTimeout` (a hang otherwise) and checks the
 * process's memory against the warn and kill limits. `ending` waits `shutdownTimeout` for the job's own
 * shutdown (session close, onSessionEnd, shutdown callbacks), then kills. The process, IPC and the socket
 * are reached through named actions.
 */
export interface JobInput {
  jobId: string;
  requestTimeout: number;
  assignmentTimeout: number;
  launchTimeout: number;
  pingTimeout: number;
  shutdownTimeout: number;
  /** MB of RSS: 0 disables. */
  memoryWarnMb: number;
  memoryLimitMb: number;
}

export interface JobContext extends JobInput {
  outcome: 'success' | 'failed' | 'declined' | null;
  reason: string | null;
  error: string | null;
  memoryWarned: boolean;
}

export type JobEvent =
  | { type: 'request.accepted' }
  | { type: 'request.rejected'; terminate: boolean }
  | { type: 'assigned' }
  | { type: 'process.started' }
  | { type: 'process.pong'; rssMb: number }
  | { type: 'job.ended'; error: string | null; reason: string }
  | { type: 'process.exited'; code: number | null; signal: string | null }
  | { type: 'shutdown'; reason: string }
  | { type: 'terminate' };

const MB = (n: number) => Math.round(n);

export const jobMachine = setup({
  types: {
    input: {} as JobInput,
    context: {} as JobContext,
    events: {} as JobEvent,
    output: {} as { outcome: 'success' | 'failed' | 'declined'; reason: string | null; error: string | null },
  },
  actions: {
    answerAvailable: () => {},
    answerUnavailable: (_, _params: { terminate: boolean }) => {},
    launch: () => {},
    reportStatus: (_, _params: { status: 'running' | 'success' | 'failed'; error: string }) => {},
    requestShutdown: (_, _params: { reason: string }) => {},
    killProcess: (_, _params: { why: string }) => {},
    warnMemory: (_, _params: { rssMb: number; limitMb: number }) => {},
  },
  guards: {
    overMemoryLimit: ({ context, event }) => event.type === 'process.pong' && context.memoryLimitMb > 0 && event.rssMb > context.memoryLimitMb,
    overMemoryWarn: ({ context, event }) =>
      event.type === 'process.pong' && !context.memoryWarned && context.memoryWarnMb > 0 && event.rssMb > context.memoryWarnMb,
    endedWithError: ({ event }) => event.type === 'job.ended' && event.error !== null,
  },
  delays: {
    requestTimeout: ({ context }) => context.requestTimeout,
    assignmentTimeout: ({ context }) => context.assignmentTimeout,
    launchTimeout: ({ context }) => context.launchTimeout,
    pingTimeout: ({ context }) => context.pingTimeout,
    shutdownTimeout: ({ context }) => context.shutdownTimeout,
    killTimeout: 5_000,
  },
}).createMachine({
  id: 'job',
  context: ({ input }) => ({ ...input, outcome: null, reason: null, error: null, memoryWarned: false }),
  initial: 'requested',
  states: {
    requested: {
      on: {
        'request.accepted': { target: 'awaitingAssignment', actions: 'answerAvailable' },
        'request.rejected': {
          target: 'declined',
          actions: [assign({ reason: 'rejected by onRequest' }), { type: 'answerUnavailable', params: ({ event }) => ({ terminate: event.terminate }) }],
        },
        // The worker is closing: say no now rather than let the server wait.
        shutdown: { target: 'declined', actions: [assign({ reason: ({ event }) => event.reason }), { type: 'answerUnavailable', params: { terminate: false } }] },
      },
      // The server waits 10 s for an answer; answering "no" a little before that lets it move on cleanly.
      after: { requestTimeout: { target: 'declined', actions: [assign({ reason: 'onRequest did not answer in time' }), { type: 'answerUnavailable', params: { terminate: false } }] } },
    },
    awaitingAssignment: {
      on: {
        assigned: 'launching',
        terminate: { target: 'done', actions: assign({ outcome: 'success', reason: 'terminated before assignment' }) },
        shutdown: { target: 'done', actions: assign({ outcome: 'failed', reason: ({ event }) => event.reason, error: 'the worker closed before the assignment' }) },
      },
      after: { assignmentTimeout: { target: 'done', actions: assign({ outcome: 'failed', error: 'no assignment from the server in time' }) } },
    },
    launching: {
      entry: 'launch',
      on: {
        'process.started': 'running',
        'job.ended': { target: 'done', actions: assign({ outcome: 'failed', error: ({ event }) => event.error ?? 'the job ended before it started' }) },
        'process.exited': { target: 'done', actions: assign({ outcome: 'failed', error: ({ event }) => exitText(event) }) },
        terminate: { target: 'ending', actions: assign({ reason: 'terminated by the server' }) },
        shutdown: { target: 'ending', actions: assign({ reason: ({ event }) => event.reason }) },
      },
      after: { launchTimeout: { target: 'killing', actions: assign({ error: 'the job process did not start the job in time' }) } },
    },
    running: {
      entry: { type: 'reportStatus', params: { status: 'running', error: '' } },
      initial: 'alive',
      states: {
        alive: {
          on: {
            'process.pong': [
              {
                guard: 'overMemoryLimit',
                target: '#job.killing',
                actions: assign({ error: ({ context, event }) => `job process used ${MB((event as { rssMb: number }).rssMb)} MB, over the ${context.memoryLimitMb} MB limit` }),
              },
              {
                guard: 'overMemoryWarn',
                target: 'alive',
                reenter: true,
                actions: [
                  assign({ memoryWarned: true }),
                  { type: 'warnMemory', params: ({ context, event }) => ({ rssMb: (event as { rssMb: number }).rssMb, limitMb: context.memoryWarnMb }) },
                ],
              },
              { target: 'alive', reenter: true },
            ],
          },
          after: { pingTimeout: { target: '#job.killing', actions: assign({ error: ({ context }) => `job process unresponsive for ${context.pingTimeout} ms` }) } },
        },
      },
      on: {
        'job.ended': [
          { guard: 'endedWithError', target: 'done', actions: assign({ outcome: 'failed', error: ({ event }) => event.error, reason: ({ event }) => event.reason }) },
          { target: 'done', actions: assign({ outcome: 'success', reason: ({ event }) => event.reason }) },
        ],
        'process.exited': { target: 'done', actions: assign({ outcome: 'failed', error: ({ event }) => exitText(event) }) },
        terminate: { target: 'ending', actions: assign({ reason: 'terminated by the server' }) },
        shutdown: { target: 'ending', actions: assign({ reason: ({ event }) => event.reason }) },
      },
    },
    ending: {
      entry: { type: 'requestShutdown', params: ({ context }) => ({ reason: context.reason ?? 'shutdown' }) },
      on: {
        // The job's own account of why it ended wins: it may have ended itself before our request arrived.
        'job.ended': [
          { guard: 'endedWithError', target: 'done', actions: assign({ outcome: 'failed', error: ({ event }) => event.error, reason: ({ event }) => event.reason }) },
          { target: 'done', actions: assign({ outcome: 'success', reason: ({ event }) => event.reason }) },
        ],
        'process.exited': { target: 'done', actions: assign({ outcome: 'failed', error: ({ event }) => exitText(event) }) },
      },
      after: { shutdownTimeout: { target: 'killing', actions: assign({ error: ({ context }) => `job did not end within ${context.shutdownTimeout} ms of shutdown` }) } },
    },
    killing: {
      entry: { type: 'killProcess', params: ({ context }) => ({ why: context.error ?? 'killed' }) },
      on: { 'process.exited': { target: 'done', actions: assign({ outcome: 'failed' }) } },
      after: { killTimeout: { target: 'done', actions: assign({ outcome: 'failed' }) } },
    },
    done: {
      type: 'final',
      entry: {
        type: 'reportStatus',
        params: ({ context }) => ({ status: context.outcome === 'success' ? 'success' : 'failed', error: context.error ?? '' }) as const,
      },
    },
    declined: { type: 'final', entry: assign({ outcome: 'declined' }) },
  },
  output: ({ context }) => ({
    outcome: context.outcome ?? 'failed',
    reason: context.reason,
    error: context.error,
  }),
});

function exitText(e: { code: number | null; signal: string | null }): string {
  return e.signal ? `job process killed by ${e.signal}` : `job process exited with code ${e.code}`;
}
