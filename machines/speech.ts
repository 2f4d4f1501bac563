import { and, assign, emit, not, setup } from 'xstate';
import type { ActivityTool } from './activity.ts';

/**
 * One SpeechHandle and the reply loop it runs: `created → scheduled → authorized (generating → playing) →
 * runningTools → scheduled → … → done`. Each LLM/tool round is one authorised step; after a step's playout the
 * scheduler is free again while its tools run (a "background speech"). Whether the tools' outputs get a reply, and
 * whether that reply may call tools again (`maxToolSteps`), is decided here.
 * `interrupted` is a flag, not a state: an interrupted speech still has to wind down (stop audio, commit what was heard).
 */
export type ToolChoiceMode = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

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
  /** Generated inside the agent's onEnter: tools flagged `not_in_on_enter` are not offered to any of its steps. */
  inOnEnter: boolean;
  /** The step's slowest-to-start filler: spoken `after` ms into runningTools if the tools have not returned. */
  filler: { after: number; callId: string } | null;
}

/**
 * The tools a step of this speech is offered: none when told not to call tools, and never a tool flagged
 * `not_in_on_enter` in a speech of onEnter. A pure function of the activity's tools and the speech's facts.
 */
export function offeredToolNames(tools: readonly ActivityTool[], speech: Pick<SpeechContext, 'toolChoice' | 'inOnEnter'>): string[] {
  if (speech.toolChoice === 'none') return [];
  return tools.filter((t) => !(speech.inOnEnter && t.flags.includes('not_in_on_enter'))).map((t) => t.name);
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
  /** A tool of the current step that has a filler started. */
  | { type: 'TOOL_FILLER'; callId: string; after: number }
  | { type: 'FINISH' };

export interface SpeechInput {
  id: string;
  priority: number;
  allowInterruptions: boolean;
  maxToolSteps?: number;
  toolChoice?: ToolChoiceMode;
  inOnEnter?: boolean;
}

/** Emitted when a running tool's filler is due: the runtime speaks it (a speech of its own). */
export type SpeechEmitted = { type: 'filler'; callId: string };

export const speechMachine = setup({
  types: {
    context: {} as SpeechContext,
    events: {} as SpeechEvent,
    input: {} as SpeechInput,
    emitted: {} as SpeechEmitted,
  },
  delays: {
    fillerDelay: ({ context }) => context.filler?.after ?? 0,
  },
  guards: {
    canInterrupt: ({ context, event }) =>
      !context.interrupted && (context.allowInterruptions || (event.type === 'INTERRUPT' && !!event.force)),
    canChangeAllowInterruptions: ({ context, event }) =>
      event.type === 'SET_ALLOW_INTERRUPTIONS' && !(context.interrupted && !event.value),
    hasToolCalls: ({ event }) => event.type === 'STEP_DONE' && (event.toolCalls ?? 0) > 0,
    replyWanted: ({ event }) => event.type === 'TOOLS_DONE' && event.replyWanted,
    interrupted: ({ context }) => context.interrupted,
    fillerDue: ({ context }) => context.filler !== null && !context.interrupted,
  },
  actions: {
    markInterrupted: assign({ interrupted: true }),
    setAllowInterruptions: assign({
      allowInterruptions: ({ event }) => (event.type === 'SET_ALLOW_INTERRUPTIONS' ? event.value : true),
    }),
    markScheduled: assign({ wasScheduled: true }),
    /** The filler that comes first wins; one filler per step. */
    registerFiller: assign({
      filler: ({ context, event }) =>
        event.type === 'TOOL_FILLER' && (context.filler === null || event.after < context.filler.after) ? { after: event.after, callId: event.callId } : context.filler,
    }),
    speakFiller: emit(({ context }) => ({ type: 'filler' as const, callId: context.filler!.callId })),
    /** The next step: tools stay offered while steps remain, and never after a handoff. */
    nextStep: assign(({ context, event }) => {
      const handoff = event.type === 'TOOLS_DONE' && event.handoff;
      const stepsSpent = context.numSteps >= context.maxToolSteps + 1;
      const toolChoice: ToolChoiceMode = stepsSpent || handoff || context.initialToolChoice === 'none' ? 'none' : 'auto';
      return { numSteps: context.numSteps + 1, toolChoice, filler: null };
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
    inOnEnter: input.inOnEnter ?? false,
    filler: null,
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
        TOOL_FILLER: { actions: 'registerFiller' },
        STEP_DONE: [{ guard: 'hasToolCalls', target: 'runningTools' }, { target: 'done' }],
      },
    },
    /**
     * Playout of the step ended; its tools are still running. A tool with a filler gets it spoken once the agent
     * has been silent for the filler's delay (a targetless delayed transition: without a filler it does nothing).
     */
    runningTools: {
      after: { fillerDelay: { guard: 'fillerDue', actions: 'speakFiller' } },
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
