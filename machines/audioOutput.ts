import { setup } from 'xstate';

/**
 * The audio output channel as the session sees it: whether a segment is playing, and whether the output is paused.
 * Pause outlives segments (a paused output stays paused until resumed), so the two are parallel regions. Commands
 * reach the device through named actions; the device's playback events come back as events.
 */
export const audioOutputMachine = setup({
  types: {
    events: {} as
      | { type: 'PLAYBACK_STARTED' }
      | { type: 'PLAYBACK_FINISHED'; interrupted: boolean }
      | { type: 'PAUSE' }
      | { type: 'RESUME' }
      | { type: 'CLEAR' },
    input: {} as { canPause: boolean },
    context: {} as { canPause: boolean },
  },
  guards: {
    canPause: ({ context }) => context.canPause,
  },
  actions: {
    pauseDevice: () => {},
    resumeDevice: () => {},
    clearDevice: () => {},
  },
}).createMachine({
  id: 'audioOutput',
  type: 'parallel',
  context: ({ input }) => ({ canPause: input.canPause }),
  states: {
    playback: {
      initial: 'idle',
      states: {
        idle: { on: { PLAYBACK_STARTED: 'playing' } },
        playing: {
          on: {
            PLAYBACK_FINISHED: 'idle',
            CLEAR: { actions: 'clearDevice' },
          },
        },
      },
    },
    pause: {
      initial: 'running',
      states: {
        running: { on: { PAUSE: { guard: 'canPause', target: 'paused', actions: 'pauseDevice' } } },
        paused: { on: { RESUME: { target: 'running', actions: 'resumeDevice' } } },
      },
    },
  },
});
