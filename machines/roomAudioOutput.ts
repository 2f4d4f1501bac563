import { assign, fromCallback, fromPromise, setup } from 'xstate';

export interface RoomAudioOutputContext {
  /** ms of the segment held by the output and not yet handed to the AudioSource. */
  queuedMs: number;
  /** A captureFrame call is pending. */
  inFlight: boolean;
  /** The segment's last frame has arrived. */
  flushed: boolean;
  /** The segment reported playback_started. */
  started: boolean;
}

export type RoomAudioOutputEvent =
  | { type: 'FRAME'; ms: number }
  | { type: 'FLUSH' }
  | { type: 'CLEAR' }
  | { type: 'CAPTURE_BEGIN'; ms: number }
  | { type: 'CAPTURE_END' }
  | { type: 'CAPTURE_FAILED'; error: string }
  | { type: 'CLOSE' };

/**
 * One published agent audio track fed through an AudioSource whose native queue holds only ~200 ms: the output takes a
 * segment's frames as fast as the TTS makes them and hands them on one at a time as the queue has room, so it is never
 * more than the queue ahead of playout. A segment waits for the first subscriber, captures, then (flushed and
 * empty) waits for playout. CLEAR ends it at once (the source's queue is dropped); a capture that fails or stalls
 * past `captureStall` ends it too, so a dead peer never wedges the session. Effects are provided by the facade.
 */
export const roomAudioOutputMachine = setup({
  types: {
    context: {} as RoomAudioOutputContext,
    events: {} as RoomAudioOutputEvent,
  },
  actors: {
    subscriber: fromPromise<void>(async () => {}),
    /** Hands queued frames to the source one by one, reporting CAPTURE_BEGIN / CAPTURE_END / CAPTURE_FAILED. */
    pump: fromCallback<RoomAudioOutputEvent>(() => {}),
    playout: fromPromise<void>(async () => {}),
  },
  delays: {
    /** Longest a single captureFrame may take (the queue's length plus slack) before the peer counts as gone. */
    captureStall: 1200,
  },
  guards: {
    drained: ({ context }) => context.flushed && context.queuedMs <= 0 && !context.inFlight,
    notStarted: ({ context }) => !context.started,
  },
  actions: {
    reportPlaybackStarted: () => {},
    /** The segment is over: `interrupted` says whether all of it played. */
    reportFinished: (_, _p: { interrupted: boolean }) => {},
    reportCaptureError: (_, _p: { error: string }) => {},
    clearSource: () => {},
    closeSource: () => {},
  },
}).createMachine({
  id: 'roomAudioOutput',
  context: { queuedMs: 0, inFlight: false, flushed: false, started: false },
  initial: 'idle',
  on: { CLOSE: '.closed' },
  states: {
    idle: {
      entry: assign({ queuedMs: 0, inFlight: false, flushed: false, started: false }),
      on: { FRAME: { target: 'segment', actions: assign({ queuedMs: ({ event }) => event.ms }) } },
    },
    segment: {
      initial: 'waitingForSubscriber',
      on: {
        FRAME: { actions: assign({ queuedMs: ({ context, event }) => context.queuedMs + event.ms, flushed: false }) },
        FLUSH: { actions: assign({ flushed: true }) },
        CLEAR: { target: 'idle', actions: ['clearSource', { type: 'reportFinished', params: { interrupted: true } }] },
        CLOSE: { target: 'closed', actions: ['clearSource', { type: 'reportFinished', params: { interrupted: true } }] },
      },
      states: {
        waitingForSubscriber: {
          invoke: { src: 'subscriber', onDone: 'capturing' },
        },
        capturing: {
          invoke: { src: 'pump' },
          always: { guard: 'drained', target: 'draining' },
          initial: 'ready',
          on: {
            CAPTURE_FAILED: {
              target: '#roomAudioOutput.idle',
              actions: [{ type: 'reportCaptureError', params: ({ event }) => ({ error: event.error }) }, 'clearSource', { type: 'reportFinished', params: { interrupted: true } }],
            },
          },
          states: {
            ready: {
              on: {
                CAPTURE_BEGIN: [
                  {
                    guard: 'notStarted',
                    target: 'inFlight',
                    actions: [assign({ started: true, inFlight: true, queuedMs: ({ context, event }) => context.queuedMs - event.ms }), 'reportPlaybackStarted'],
                  },
                  { target: 'inFlight', actions: assign({ inFlight: true, queuedMs: ({ context, event }) => context.queuedMs - event.ms }) },
                ],
              },
            },
            inFlight: {
              on: { CAPTURE_END: { target: 'ready', actions: assign({ inFlight: false }) } },
              after: {
                captureStall: {
                  target: '#roomAudioOutput.idle',
                  actions: [
                    { type: 'reportCaptureError', params: { error: 'the audio source stopped taking frames (capture stalled)' } },
                    'clearSource',
                    { type: 'reportFinished', params: { interrupted: true } },
                  ],
                },
              },
            },
          },
        },
        draining: {
          invoke: { src: 'playout', onDone: { target: '#roomAudioOutput.idle', actions: { type: 'reportFinished', params: { interrupted: false } } } },
          on: {
            // More audio after the flush continues the segment.
            FRAME: { target: 'capturing', actions: assign({ queuedMs: ({ context, event }) => context.queuedMs + event.ms, flushed: false }) },
          },
        },
      },
    },
    closed: { type: 'final', entry: 'closeSource' },
  },
});
