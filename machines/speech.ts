import { assign, setup } from 'xstate';

/**
 * One SpeechHandle: `scheduled → authorized (generating → playing) → stepDone → done`, one authorised step per
 * LLM/tool round. After a step's playout the scheduler is free again (`stepDone`: tools may still run — a
 * "background speech"); a tool reply sends the handle back to `scheduled` to be authorised in turn.
 * `interrupted` is a flag, not a state: an interrupted speech still has to wind down (stop audio, commit what was heard).
 */
export interface SpeechContext {
  id: string;
  priority: number;
  allowInterruptions: boolean;
  interrupted: boolean;
  /** Ever placed in the queue (a preemptive reply that is discarded never is). */
  wasScheduled: boolean;
  numSteps: number;
}

export type SpeechEvent =
  | { type: 'SCHEDULE' }
  | { type: 'AUTHORIZE' }
  | { type: 'PLAYBACK_STARTED' }
  | { type: 'STEP_DONE' }
  | { type: 'INTERRUPT'; force?: boolean }
  | { type: 'SET_ALLOW_INTERRUPTIONS'; value: boolean }
  | { type: 'FINISH' };

export const speechMachine = setup({
  types: {
    context: {} as SpeechContext,
    events: {} as SpeechEvent,
    input: {} as { id: string; priority: number; allowInterruptions: boolean },
  },
  guards: {
    canInterrupt: ({ context, event }) =>
      !context.interrupted && (context.allowInterruptions || (event.type === 'INTERRUPT' && !!event.force)),
    canChangeAllowInterruptions: ({ context, event }) =>
      event.type === 'SET_ALLOW_INTERRUPTIONS' && !(context.interrupted && !event.value),
  },
  actions: {
    markInterrupted: assign({ interrupted: true }),
    setAllowInterruptions: assign({
      allowInterruptions: ({ event }) => (event.type === 'SET_ALLOW_INTERRUPTIONS' ? event.value : true),
    }),
    countStep: assign({ numSteps: ({ context }) => context.numSteps + 1 }),
    markScheduled: assign({ wasScheduled: true }),
  },
}).createMachine({
  id: 'speech',
  initial: 'created',
  context: ({ input }) => ({ ...input, interrupted: false, wasScheduled: false, numSteps: 1 }),
  on: {
    INTERRUPT: { guard: 'canInterrupt', actions: 'markInterrupted' },
    SET_ALLOW_INTERRUPTIONS: { guard: 'canChangeAllowInterruptions', actions: 'setAllowInterruptions' },
    FINISH: '.done',
  },
  states: {
    created: { on: { SCHEDULE: { target: 'scheduled', actions: 'markScheduled' } } },
    scheduled: { on: { AUTHORIZE: 'authorized' } },
    authorized: {
      initial: 'generating',
      states: {
        generating: { on: { PLAYBACK_STARTED: 'playing' } },
        playing: {},
      },
      on: { STEP_DONE: 'stepDone' },
    },
    /** Playout of the step ended; its tools may still be running. */
    stepDone: {
      on: { SCHEDULE: { target: 'scheduled', actions: 'countStep' } },
    },
    done: { type: 'final' },
  },
});
