import { assign, raise, setup } from 'xstate';

/**
 * A worker's link to the server's `/agent` endpoint and its willingness to take jobs.
 *
 * Two regions: `link` (connect → register → registered; on a drop, wait a backoff and connect again, give up after
 * `maxRetry` attempts in a row) and `mode` (serving → draining → drained). Running jobs live outside this machine,
 * so a reconnect never touches them. The status sent to the server (FULL at or above `loadThreshold`, or while
 * draining) is decided here; the socket is the `socket` actor, provided by the runtime.
 */
export interface WorkerConnectionInput {
  loadThreshold: number;
  maxRetry: number;
  /** ms to wait for running jobs once draining; then the worker closes anyway. */
  drainTimeout: number;
}

export interface WorkerConnectionContext extends WorkerConnectionInput {
  retries: number;
  draining: boolean;
  load: number;
  activeJobs: number;
  workerId: string | null;
  lastError: string | null;
}

export type WorkerConnectionEvent =
  | { type: 'socket.registered'; workerId: string }
  | { type: 'socket.closed'; error?: string }
  | { type: 'load.sampled'; load: number }
  | { type: 'jobs.changed'; count: number }
  | { type: 'job.requested'; jobId: string }
  | { type: 'drain' }
  | { type: 'close' };

export const isFull = (c: Pick<WorkerConnectionContext, 'load' | 'loadThreshold' | 'draining'>) => c.draining || c.load >= c.loadThreshold;

/** What UpdateWorkerStatus carries: a draining worker reports load 1 so that no weighting picks it. */
export const statusOf = (c: WorkerConnectionContext) => ({ full: isFull(c), load: c.draining ? 1 : Math.min(1, c.load), jobCount: c.activeJobs });

export const workerConnectionMachine = setup({
  types: {
    input: {} as WorkerConnectionInput,
    context: {} as WorkerConnectionContext,
    events: {} as WorkerConnectionEvent,
  },
  actors: {
    // Provided by the runtime: opens the WebSocket, registers, relays frames; sends socket.registered / socket.closed.
    socket: {} as any,
  },
  actions: {
    /** Send UpdateWorkerStatus. */
    sendStatus: (_, _params: { full: boolean; load: number; jobCount: number }) => {},
    /** Run the job request (onRequest) and answer the server. */
    offerJob: (_, _params: { jobId: string }) => {},
    /** Answer available=false at once: the server tries another worker. */
    declineJob: (_, _params: { jobId: string }) => {},
    announceRegistered: (_, _params: { workerId: string }) => {},
    announceDisconnected: (_, _params: { error: string | null; retry: number; delayMs: number }) => {},
    announceFailed: (_, _params: { error: string | null }) => {},
    announceDraining: () => {},
    announceClosed: () => {},
  },
  guards: {
    retriesExhausted: ({ context }) => context.retries > context.maxRetry,
    noJobs: ({ context }) => context.activeJobs === 0,
    accepting: ({ context }) => !isFull(context),
  },
  delays: {
    // 0.5 s, 1 s, 2 s, 4 s, 8 s, then 10 s: a restarting server is found quickly, a dead one is not hammered.
    backoff: ({ context }) => backoffMs(context.retries),
    registerTimeout: 10_000,
    drainTimeout: ({ context }) => context.drainTimeout,
  },
}).createMachine({
  id: 'workerConnection',
  context: ({ input }) => ({ ...input, retries: 0, draining: false, load: 0, activeJobs: 0, workerId: null, lastError: null }),
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      onDone: 'closed',
      on: {
        'load.sampled': { actions: assign({ load: ({ event }) => Math.max(0, event.load) }) },
        'jobs.changed': { actions: assign({ activeJobs: ({ event }) => event.count }) },
      },
      states: {
        link: {
          initial: 'online',
          on: { close: '.stopped' },
          states: {
            online: {
              invoke: { src: 'socket', id: 'socket' },
              initial: 'registering',
              on: {
                'socket.closed': { target: 'offline', actions: assign({ lastError: ({ event }) => event.error ?? null }) },
              },
              states: {
                registering: {
                  on: {
                    'socket.registered': {
                      target: 'registered',
                      actions: [
                        assign({ workerId: ({ event }) => event.workerId, retries: 0, lastError: null }),
                        { type: 'announceRegistered', params: ({ event }) => ({ workerId: event.workerId }) },
                      ],
                    },
                  },
                  after: { registerTimeout: { target: '#workerConnection.running.link.offline', actions: assign({ lastError: 'no registration reply within 10 s' }) } },
                },
                registered: {
                  entry: { type: 'sendStatus', params: ({ context }) => statusOf(context) },
                  on: {
                    'load.sampled': {
                      actions: [assign({ load: ({ event }) => Math.max(0, event.load) }), { type: 'sendStatus', params: ({ context }) => statusOf(context) }],
                    },
                    'jobs.changed': {
                      actions: [assign({ activeJobs: ({ event }) => event.count }), { type: 'sendStatus', params: ({ context }) => statusOf(context) }],
                    },
                    drain: { actions: [assign({ draining: true }), { type: 'sendStatus', params: ({ context }) => statusOf(context) }] },
                    'job.requested': [
                      { guard: 'accepting', actions: { type: 'offerJob', params: ({ event }) => ({ jobId: event.jobId }) } },
                      { actions: { type: 'declineJob', params: ({ event }) => ({ jobId: event.jobId }) } },
                    ],
                  },
                },
              },
            },
            offline: {
              entry: [
                assign({ retries: ({ context }) => context.retries + 1 }),
                {
                  type: 'announceDisconnected',
                  params: ({ context }) => ({ error: context.lastError, retry: context.retries, delayMs: backoffMs(context.retries) }),
                },
              ],
              always: { guard: 'retriesExhausted', target: 'failed' },
              after: { backoff: 'online' },
            },
            // Giving up closes the worker: without a server no job can start or report.
            failed: { type: 'final', entry: [{ type: 'announceFailed', params: ({ context }) => ({ error: context.lastError }) }, raise({ type: 'close' })] },
            stopped: { type: 'final' },
          },
        },
        mode: {
          initial: 'serving',
          states: {
            serving: { on: { drain: 'draining' } },
            draining: {
              entry: [assign({ draining: true }), 'announceDraining'],
              always: { guard: 'noJobs', target: 'drained' },
              after: { drainTimeout: 'drained' },
            },
            drained: { type: 'final', entry: raise({ type: 'close' }) },
          },
          on: { close: '.drained' },
        },
      },
    },
    closed: { type: 'final', entry: 'announceClosed' },
  },
});

export function backoffMs(retry: number): number {
  return Math.min(500 * 2 ** Math.max(0, retry - 1), 10_000);
}
