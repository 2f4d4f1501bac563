import { and, assign, not, setup } from 'xstate';

/**
 * One SpeechHandle and the reply loop it runs: `created → scheduled → authorized (generating → playing) →
 * runningTools → scheduled → … → done`. Each LLM/tool round is one authorised step; after a step's playout the
 * scheduler is free again while its tools run (a "background speech"). Whether the tools' outputs get a reply, and
 * whether that reply may call tools again (`maxToolSteps`), is decided here.
 * `interrupted` is a flag, not a state: an interrupted speech still has to wind down (stop audio, commit what was heard).
 */
export type ToolChoiceMode = 'auto' | 'none' | 'required';

export interface SpeechContext {
  id: string;
  priority: number;
  allowInterruptions: boolean;
  interrupted: boolean;
  /** Ever placed in the queue (a preemptive reply that is discarded never is). */
  wasScheduled: boolean;
  numSteps: number;
  maxToolSteps: number;
  /** Tool choice of the first step ('none' inside a tool: a reply from a tool does not call tools again). */
  initialToolChoice: ToolChoiceMode;
  /** Tool choice of the step being generated. */
  toolChoice: ToolChoiceMode;
}

export type SpeechEvent =
  | { type: 'SCHEDULE' }
  | { type: 'AUTHORIZE' }
  | { type: 'PLAYBACK_STARTED' }
  /** The step's playout ended; `toolCalls` of its tool calls are running. */
  | { type: 'STEP_DONE'; toolCalls?: number }
  /** Every tool of the step returned: does any output want a reply, and did one hand off to another agent? */
  | { type: 'TOOLS_DONE'; replyWanted: boolean; handoff: boolean }
  | { type: 'INTERRUPT'; force?: boolean }
  | { type: 'SET_ALLOW_INTERRUPTIONS'; value: boolean }
  | { type: 'FINISH' };

export interface SpeechInput {
  id: string;
  priority: number;
  allowInterruptions: boolean;
  maxToolSteps?: number;
  toolChoice?: ToolChoiceMode;
}

export const speechMachine = setup({
  types: {
    context: {} as SpeechContext,
    events: {} as SpeechEvent,
    input: {} as SpeechInput,
  },
  guards: {
    canInterrupt: ({ context, event }) =>
      !context.interrupted && (context.allowInterruptions || (event.type === 'INTERRUPT' && !!event.force)),
    canChangeAllowInterruptions: ({ context, event }) =>
      event.type === 'SET_ALLOW_INTERRUPTIONS' && !(context.interrupted && !event.value),
    hasToolCalls: ({ event }) => event.type === 'STEP_DONE' && (event.toolCalls ?? 0) > 0,
    replyWanted: ({ event }) => event.type === 'TOOLS_DONE' && event.replyWanted,
    interrupted: ({ context }) => context.interrupted,
  },
  actions: {
    markInterrupted: assign({ interrupted: true }),
    setAllowInterruptions: assign({
      allowInterruptions: ({ event }) => (event.type === 'SET_ALLOW_INTERRUPTIONS' ? event.value : true),
    }),
    markScheduled: assign({ wasScheduled: true }),
    /** The next step: tools stay offered while steps remain, and never after a handoff. */
    nextStep: assign(({ context, event }) => {
      const handoff = event.type === 'TOOLS_DONE' && event.handoff;
      const stepsSpent = context.numSteps >= context.maxToolSteps + 1;
      const toolChoice: ToolChoiceMode = stepsSpent || handoff || context.initialToolChoice === 'none' ? 'none' : 'auto';
      return { numSteps: context.numSteps + 1, toolChoice };
    }),
  },
}).createMachine({
  id: 'speech',
  initial: 'created',
  context: ({ input }) => ({
    id: input.id,
    priority: input.priority,
    allowInterruptions: input.allowInterruptions,
    interrupted: false,
    wasScheduled: false,
    numSteps: 1,
    maxToolSteps: input.maxToolSteps ?? 3,
    initialToolChoice: input.toolChoice ?? 'auto',
    toolChoice: input.toolChoice ?? 'auto',
  }),
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
      on: {
        STEP_DONE: [{ guard: 'hasToolCalls', target: 'runningTools' }, { target: 'done' }],
      },
    },
    /** Playout of the step ended; its tools are still running. */
    runningTools: {
      on: {
        TOOLS_DONE: [
          { guard: and(['replyWanted', not('interrupted')]), target: 'scheduled', actions: 'nextStep' },
          { target: 'done' },
        ],
      },
    },
    done: { type: 'final' },
  },
});
