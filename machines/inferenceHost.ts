import { assign, setup } from 'xstate';

/**
 * The worker's inference host process (Silero for every job process, over a Unix socket), kept running.
 *
 * `up` runs the `host` actor (the process, provided by the runtime): `starting` until it listens, then `running`.
 * An exit (or no listening within `listenTimeout`) goes `down`: wait a backoff, start it again. Restarts in a row
 * back off from 250 ms to 10 s; a host that has stayed up for `stableAfter` resets the count. It is never given up
 * on: job processes wait for it (and resend what was in flight) rather than lose their windows.
 *
 * A running host answers the actor's pings (`host.pong`); one that has not answered for `answerTimeout` is hung (a
 * blocked event loop serves no window either) and is treated as exited: leaving `up` stops the actor, which kills it.
 */
export interface InferenceHostContext {
  restarts: number;
  pid: number | null;
  lastExit: string | null;
}

export type InferenceHostEvent =
  | { type: 'host.listening'; pid: number }
  | { type: 'host.exited'; code: number | null; signal: string | null }
  | { type: 'host.pong' }
  | { type: 'stop' };

export const hostBackoffMs = (restarts: number) => Math.min(250 * 2 ** Math.max(0, restarts - 1), 10_000);

export const inferenceHostMachine = setup({
  types: {
    context: {} as InferenceHostContext,
    events: {} as InferenceHostEvent,
  },
  actors: {
    // Provided by the runtime: forks the host; sends host.listening once it accepts connections, host.pong to each
    // of its pings (every second), host.exited.
    host: {} as any,
  },
  actions: {
    announceListening: (_, _params: { pid: number; restarts: number }) => {},
    announceDown: (_, _params: { why: string; restarts: number; delayMs: number }) => {},
  },
  delays: {
    listenTimeout: 15_000,
    answerTimeout: 5_000,
    stableAfter: 30_000,
    backoff: ({ context }) => hostBackoffMs(context.restarts),
  },
}).createMachine({
  id: 'inferenceHost',
  context: { restarts: 0, pid: null, lastExit: null },
  initial: 'up',
  on: { stop: '.stopped' },
  states: {
    up: {
      invoke: { src: 'host', id: 'host' },
      initial: 'starting',
      on: {
        'host.exited': {
          target: 'down',
          actions: assign({
            restarts: ({ context }) => context.restarts + 1,
            pid: null,
            lastExit: ({ event }) => `exited (${event.signal ?? `code ${event.code}`})`,
          }),
        },
      },
      states: {
        starting: {
          on: {
            'host.listening': {
              target: 'running',
              actions: [
                assign({ pid: ({ event }) => event.pid }),
                { type: 'announceListening', params: ({ event, context }) => ({ pid: event.pid, restarts: context.restarts }) },
              ],
            },
          },
          after: {
            listenTimeout: {
              target: '#inferenceHost.down',
              actions: assign({ restarts: ({ context }) => context.restarts + 1, lastExit: 'did not listen within 15 s' }),
            },
          },
        },
        running: {
          after: { stableAfter: { actions: assign({ restarts: 0 }) } },
          initial: 'answering',
          states: {
            answering: {
              on: { 'host.pong': { target: 'answering', reenter: true } },
              after: {
                answerTimeout: {
                  target: '#inferenceHost.down',
                  actions: assign({
                    restarts: ({ context }) => context.restarts + 1,
                    pid: null,
                    lastExit: 'stopped answering (hung)',
                  }),
                },
              },
            },
          },
        },
      },
    },
    down: {
      entry: {
        type: 'announceDown',
        params: ({ context }) => ({ why: context.lastExit ?? 'exited', restarts: context.restarts, delayMs: hostBackoffMs(context.restarts) }),
      },
      after: { backoff: 'up' },
    },
    stopped: { type: 'final' },
  },
});
