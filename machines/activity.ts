import { and, assign, not, or, setup, stateIn } from 'xstate';

/**
 * One Agent's activity: the agent state, the speech queue and its scheduler (one authorised speech at a time,
 * priority then FIFO, `minConsecutiveSpeechDelay` between speeches), the interruption rules, the pause used for
 * false-interruption resume, and the fence that stops new user turns during a handoff or drain.
 *
 * The machine decides; the runtime acts. Facts the machine cannot know (is the current speech interruptible?
 * how many words has the user said?) arrive in the events; effects are named actions the runtime provides.
 */
export type AgentState = 'initializing' | 'listening' | 'thinking' | 'speaking';

/** What the runtime knows of the current speech when it reports user activity. */
export interface CurrentSpeechFacts {
  id: string;
  interrupted: boolean;
  allowInterruptions: boolean;
}

export interface QueuedSpeech {
  id: string;
  priority: number;
  seq: number;
}

export interface PausedSpeech {
  id: string;
  /** Agent state when the pause began; restored on resume. */
  captured: 'speaking' | 'thinking';
  /** ms of user silence after which the interruption is declared false. */
  timeout: number;
}

export interface ActivityContext {
  queue: QueuedSpeech[];
  seq: number;
  current: string | null;
  lastPlayoutEndAt: number | null;
  minConsecutiveSpeechDelay: number;
  interruption: { mode: 'vad' | 'stt' | 'manual'; minDuration: number; minWords: number; hasStt: boolean };
  pauseEnabled: boolean;
  falseInterruptionTimeout: number;
  paused: PausedSpeech | null;
  acceptingTurns: boolean;
  acceptingSpeech: boolean;
  now: () => number;
}

export type ActivityEvent =
  | { type: 'STARTED' }
  | { type: 'SPEECH_ENQUEUED'; id: string; priority: number; force?: boolean }
  | { type: 'SPEECH_DONE'; id: string }
  | { type: 'STEP_DONE'; id: string }
  | { type: 'REPLY_SCHEDULED' }
  | { type: 'PLAYBACK_STARTED' }
  | { type: 'PLAYOUT_ENDED'; next: 'thinking' | 'listening' }
  | { type: 'REPLY_FINISHED'; backgroundSpeech: boolean }
  | { type: 'USER_SPEECH_START'; current: CurrentSpeechFacts | null }
  | { type: 'USER_SPEECH_END' }
  | { type: 'AUDIO_ACTIVITY'; speechDuration: number; words: number; current: CurrentSpeechFacts | null }
  | { type: 'FINAL_TRANSCRIPT'; words: number; current: CurrentSpeechFacts | null; userSpeaking: boolean }
  | { type: 'END_OF_TURN'; words: number; current: CurrentSpeechFacts | null }
  | { type: 'BLOCK_TURNS' }
  | { type: 'PAUSE_SCHEDULING' }
  | { type: 'CAN_PAUSE_CHANGED'; pauseEnabled: boolean }
  | { type: 'CLOSE' };

export interface ActivityInput {
  minConsecutiveSpeechDelay: number;
  interruption: ActivityContext['interruption'];
  pauseEnabled: boolean;
  falseInterruptionTimeout: number;
  now?: () => number;
}

const byPriorityThenFifo = (a: QueuedSpeech, b: QueuedSpeech) => b.priority - a.priority || a.seq - b.seq;

const factsOf = (event: ActivityEvent): CurrentSpeechFacts | null =>
  'current' in event ? event.current : null;

export const activityMachine = setup({
  types: {
    context: {} as ActivityContext,
    events: {} as ActivityEvent,
    input: {} as ActivityInput,
  },
  guards: {
    queueNotEmpty: ({ context }) => context.queue.length > 0,
    mustWaitBeforeNextSpeech: ({ context }) =>
      context.lastPlayoutEndAt !== null &&
      context.minConsecutiveSpeechDelay > 0 &&
      context.now() - context.lastPlayoutEndAt < context.minConsecutiveSpeechDelay,
    isCurrent: ({ context, event }) => 'id' in event && event.id === context.current,
    isPausedSpeech: ({ context, event }) => 'id' in event && context.paused?.id === event.id,
    acceptsSpeech: ({ context, event }) =>
      context.acceptingSpeech || (event.type === 'SPEECH_ENQUEUED' && !!event.force),
    acceptsTurns: ({ context }) => context.acceptingTurns,
    /** Audio-activity interruptions are off in manual mode. */
    audioInterruptsAllowed: ({ context }) => context.interruption.mode !== 'manual',
    currentInterruptible: ({ event }) => {
      const c = factsOf(event);
      return c !== null && !c.interrupted && c.allowInterruptions;
    },
    longEnough: ({ context, event }) =>
      event.type !== 'AUDIO_ACTIVITY' || event.speechDuration >= context.interruption.minDuration,
    enoughWords: ({ context, event }) =>
      context.interruption.minWords <= 0 ||
      !context.interruption.hasStt ||
      context.interruption.mode === 'manual' ||
      ('words' in event && event.words >= context.interruption.minWords),
    pauseEnabled: ({ context }) => context.pauseEnabled,
    alreadyPausedThis: ({ context, event }) => context.paused !== null && context.paused.id === factsOf(event)?.id,
    agentSpeaking: stateIn('#activity.agent.speaking'),
    pausedIsCurrent: ({ context }) => context.paused !== null && context.paused.id === context.current,
    pauseWasReal: ({ context }) => (context.paused?.timeout ?? 0) > 0,
    hasPausedSpeech: ({ context }) => context.paused !== null,
    userSilent: ({ event }) => event.type === 'FINAL_TRANSCRIPT' && !event.userSpeaking,
    capturedSpeaking: ({ context }) => context.paused?.captured === 'speaking',
    noBackgroundSpeech: ({ event }) => event.type === 'REPLY_FINISHED' && !event.backgroundSpeech,
    idleScheduler: ({ context }) => context.current === null && context.queue.length === 0,
    nextIsThinking: ({ event }) => event.type === 'PLAYOUT_ENDED' && event.next === 'thinking',
  },
  delays: {
    consecutiveSpeechDelay: ({ context }) =>
      Math.max(0, (context.lastPlayoutEndAt ?? 0) + context.minConsecutiveSpeechDelay - context.now()),
    falseInterruptionTimeout: ({ context }) => context.paused?.timeout ?? 0,
  },
  actions: {
    enqueue: assign(({ context, event }) => {
      if (event.type !== 'SPEECH_ENQUEUED') return {};
      const queue = [...context.queue, { id: event.id, priority: event.priority, seq: context.seq }].sort(byPriorityThenFifo);
      return { queue, seq: context.seq + 1 };
    }),
    dropFromQueue: assign({
      queue: ({ context, event }) => context.queue.filter((q) => !('id' in event) || q.id !== event.id),
    }),
    popNext: assign(({ context }) => ({ current: context.queue[0]!.id, queue: context.queue.slice(1) })),
    releaseCurrent: assign(({ context }) => ({ current: null, lastPlayoutEndAt: context.now() })),
    // Effects, provided by the runtime:
    authorizeSpeech: (_, _params: { id: string }) => {},
    rejectSpeech: (_, _params: { id: string }) => {},
    pauseOutput: () => {},
    resumeOutput: () => {},
    interruptSpeech: (_, _params: { id: string }) => {},
    reportResumed: () => {},
    reportNotResumed: () => {},
    markAgentSpeechStarted: () => {},
    acceptTurn: () => {},
    capturePause: assign(({ event }) => ({
      paused: { id: factsOf(event)!.id, captured: 'speaking' as const, timeout: 0 },
    })),
    setPausedCaptured: assign(({ context }, params: { captured: 'speaking' | 'thinking'; preemptive: boolean }) => ({
      paused: context.paused && {
        ...context.paused,
        captured: params.captured,
        timeout: params.preemptive ? 0 : context.falseInterruptionTimeout,
      },
    })),
    clearPause: assign({ paused: null }),
    /** Only a pause that followed real user audio counts as a false interruption; a pre-emptive one is silent. */

    blockTurns: assign({ acceptingTurns: false }),
    pauseScheduling: assign({ acceptingTurns: false, acceptingSpeech: false }),
    setCanPause: assign({
      pauseEnabled: ({ context, event }) => (event.type === 'CAN_PAUSE_CHANGED' ? event.pauseEnabled : context.pauseEnabled),
    }),
  },
}).createMachine({
  id: 'activity',
  type: 'parallel',
  context: ({ input }) => ({
    queue: [],
    seq: 0,
    current: null,
    lastPlayoutEndAt: null,
    minConsecutiveSpeechDelay: input.minConsecutiveSpeechDelay,
    interruption: input.interruption,
    pauseEnabled: input.pauseEnabled,
    falseInterruptionTimeout: input.falseInterruptionTimeout,
    paused: null,
    acceptingTurns: true,
    acceptingSpeech: true,
    now: input.now ?? Date.now,
  }),
  on: {
    SPEECH_ENQUEUED: [
      { guard: 'acceptsSpeech', actions: 'enqueue' },
      { actions: { type: 'rejectSpeech', params: ({ event }) => ({ id: event.id }) } },
    ],
    BLOCK_TURNS: { actions: 'blockTurns' },
    PAUSE_SCHEDULING: { actions: 'pauseScheduling' },
    CAN_PAUSE_CHANGED: { actions: 'setCanPause' },
    // A committed turn may be accepted only while the activity takes new turns and the min-words rule holds.
    END_OF_TURN: [
      { guard: not('acceptsTurns') },
      { guard: and(['currentInterruptible', not('enoughWords')]) },
      { actions: 'acceptTurn' },
    ],
  },
  states: {
    agent: {
      initial: 'initializing',
      states: {
        initializing: { on: { STARTED: 'listening' } },
        listening: {
          on: { REPLY_SCHEDULED: 'thinking', PLAYBACK_STARTED: 'speaking' },
        },
        thinking: {
          on: {
            PLAYBACK_STARTED: 'speaking',
            REPLY_FINISHED: { guard: and(['noBackgroundSpeech', 'idleScheduler']), target: 'listening' },
          },
        },
        speaking: {
          on: { REPLY_SCHEDULED: 'thinking' },
        },
      },
      on: {
        // After a playout: thinking while tools, background speeches or queued speeches are pending.
        PLAYOUT_ENDED: [{ guard: or(['nextIsThinking', 'queueNotEmpty']), target: '.thinking' }, { target: '.listening' }],
        REPLY_FINISHED: { guard: and(['noBackgroundSpeech', 'idleScheduler']), target: '.listening' },
      },
    },
    scheduler: {
      initial: 'idle',
      states: {
        idle: {
          always: { guard: 'queueNotEmpty', target: 'selecting' },
        },
        selecting: {
          entry: 'popNext',
          always: [{ guard: 'mustWaitBeforeNextSpeech', target: 'delaying' }, { target: 'authorized' }],
        },
        delaying: {
          after: { consecutiveSpeechDelay: 'authorized' },
          on: { SPEECH_DONE: { guard: 'isCurrent', target: 'idle', actions: assign({ current: null }) } },
        },
        authorized: {
          entry: { type: 'authorizeSpeech', params: ({ context }) => ({ id: context.current! }) },
          on: {
            STEP_DONE: { guard: 'isCurrent', target: 'idle', actions: 'releaseCurrent' },
            SPEECH_DONE: { guard: 'isCurrent', target: 'idle', actions: 'releaseCurrent' },
          },
        },
      },
      on: {
        SPEECH_DONE: { actions: 'dropFromQueue' },
      },
    },
    pause: {
      initial: 'none',
      states: {
        none: {
          on: {
            AUDIO_ACTIVITY: [
              {
                guard: and(['audioInterruptsAllowed', 'currentInterruptible', 'longEnough', 'enoughWords', 'pauseEnabled', 'agentSpeaking']),
                target: ['paused', '#activity.agent.listening'],
                actions: ['capturePause', { type: 'setPausedCaptured', params: { captured: 'speaking', preemptive: false } }, 'pauseOutput'],
              },
              {
                guard: and(['audioInterruptsAllowed', 'currentInterruptible', 'longEnough', 'enoughWords', 'pauseEnabled']),
                target: ['paused', '#activity.agent.listening'],
                actions: ['capturePause', { type: 'setPausedCaptured', params: { captured: 'thinking', preemptive: false } }, 'pauseOutput'],
              },
              {
                guard: and(['audioInterruptsAllowed', 'currentInterruptible', 'longEnough', 'enoughWords']),
                actions: { type: 'interruptSpeech', params: ({ event }) => ({ id: factsOf(event)!.id }) },
              },
            ],
            FINAL_TRANSCRIPT: {
              guard: and(['audioInterruptsAllowed', 'currentInterruptible', 'enoughWords']),
              actions: { type: 'interruptSpeech', params: ({ event }) => ({ id: factsOf(event)!.id }) },
            },
            // The user starts while a reply is being prepared: hold its audio back until we know more.
            USER_SPEECH_START: {
              guard: and(['audioInterruptsAllowed', 'currentInterruptible', not('agentSpeaking'), 'pauseEnabled']),
              target: 'paused',
              actions: ['capturePause', { type: 'setPausedCaptured', params: { captured: 'thinking', preemptive: true } }, 'pauseOutput'],
            },
          },
        },
        paused: {
          on: {
            USER_SPEECH_END: 'timing',
            AUDIO_ACTIVITY: {
              // A pre-emptive pause becomes a real (resumable) interruption once the speech is long enough.
              guard: and(['audioInterruptsAllowed', 'currentInterruptible', 'longEnough', 'enoughWords']),
              actions: { type: 'setPausedCaptured', params: ({ context }) => ({ captured: context.paused!.captured, preemptive: false }) },
            },
          },
        },
        timing: {
          after: {
            // Only a pause that followed real user audio is reported; a pre-emptive one (timeout 0) resumes silently.
            falseInterruptionTimeout: [
              {
                guard: and(['pausedIsCurrent', 'capturedSpeaking']),
                target: ['none', '#activity.agent.speaking'],
                actions: ['resumeOutput', 'markAgentSpeechStarted', 'reportResumed', 'clearPause'],
              },
              {
                guard: 'pausedIsCurrent',
                target: ['none', '#activity.agent.thinking'],
                actions: ['resumeOutput', 'reportResumed', 'clearPause'],
              },
              {
                target: 'none',
                actions: ['resumeOutput', 'reportNotResumed', 'clearPause'],
              },
            ],
          },
          on: { USER_SPEECH_START: 'paused' },
        },
      },
      on: {
        // A transcript means the user really spoke: the paused speech is interrupted for good.
        FINAL_TRANSCRIPT: {
          guard: 'hasPausedSpeech',
          target: '.none',
          actions: [{ type: 'interruptSpeech', params: ({ context }) => ({ id: context.paused!.id }) }, 'clearPause'],
        },
        // The paused speech finished its step (e.g. a silent tool step): its pause must not leak into the next one.
        STEP_DONE: { guard: 'isPausedSpeech', target: '.none', actions: ['clearPause', 'resumeOutput'] },
        SPEECH_DONE: { guard: 'isPausedSpeech', target: '.none', actions: ['clearPause', 'resumeOutput'] },
      },
    },
  },
});
