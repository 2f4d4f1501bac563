import { and, assign, not, setup, stateIn, stopChild, type AnyActorRef } from 'xstate';
import { heardBackchannel, ruleFor } from './interruptionRules.ts';
import type { EndOfTurnInfo } from './userTurn.ts';
import type { ActivityContext, ActivityEvent, ActivityInput, ActivityTool, CurrentSpeechFacts, QueuedSpeech } from './activityTypes.ts';
export type { AgentState, CurrentSpeechFacts, SpeechKind, QueuedSpeech, PausedSpeech, ActivityContext, ActivityTool, ActivityEvent, ActivityInput } from './activityTypes.ts';

/**
 * One Agent's activity: the agent state, the speech queue and its scheduler (one authorised speech at a time,
 * priority then FIFO, `minConsecutiveSpeechDelay` between speeches), who holds the floor, the interruption rules,
 * the pause used for false-interruption resume, and the fence that stops new user turns during a handoff or drain.
 *
 * The machine decides; the runtime acts. Facts the machine cannot know (is the current speech interruptible? how
 * many words has the user said?) arrive in the events; effects are named actions the runtime provides. The context
 * is plain data (no clock, no objects): every wait is an XState delay.
 *
 * The agent state is derived, never pushed: `speaking` exactly while the current speech is audible, `thinking`
 * while a reply is pending (queued, authorised or generating) or tools run, `listening` otherwise or while paused
 * for the user. No transition targets two regions at once: a multi-region target re-enters the whole parallel
 * root, which would reset the scheduler while a speech holds the output.
 */

const byPriorityThenFifo = (a: QueuedSpeech, b: QueuedSpeech) => b.priority - a.priority || a.seq - b.seq;

const factsOf = (event: ActivityEvent): CurrentSpeechFacts | null => ('current' in event ? event.current : null);

/** The current speech is audible now: its segment started and the output is not paused for it. */
export const isAudible = (c: ActivityContext): boolean => c.current !== null && c.segmentStarted && c.paused === null;

/** A reply is on its way (queued, authorised or generating) or tools run: the agent is thinking. */
export const isBusy = (c: ActivityContext): boolean =>
  c.toolsRunning > 0 ||
  c.toolSteps.length > 0 ||
  c.queue.some((q) => q.kind === 'reply') ||
  (c.current !== null && c.currentKind === 'reply');

/** Busy and not paused: the agent thinks (or speaks, if also audible). */
const thinks = (c: ActivityContext): boolean => isBusy(c) && c.paused === null;

/**
 * A speech may push its first frame: the user does not hold the floor. In manual turn detection the application
 * decides who speaks (push-to-talk), so the floor never holds a speech back.
 */
export const floorIsFree = (c: ActivityContext): boolean => !c.userSpeaking || c.interruption.mode === 'manual';

export const activityMachine = setup({
  types: {
    context: {} as ActivityContext,
    events: {} as ActivityEvent,
    input: {} as ActivityInput,
  },
  guards: {
    isCurrent: ({ context, event }) => 'id' in event && event.id === context.current,
    isPausedSpeech: ({ context, event }) => 'id' in event && context.paused?.id === event.id,
    acceptsSpeech: ({ context, event }) => context.acceptingSpeech || (event.type === 'SPEECH_ENQUEUED' && !!event.force),
    acceptsTurns: ({ context }) => context.acceptingTurns,
    /** Audio-activity interruptions are off in manual mode. */
    audioInterruptsAllowed: ({ context }) => context.interruption.mode !== 'manual',
    currentInterruptible: ({ event }) => {
      const c = factsOf(event);
      return c !== null && !c.interrupted && c.allowInterruptions;
    },
    longEnough: ({ context, event }) => event.type !== 'AUDIO_ACTIVITY' || event.speechDuration >= ruleFor(context).minDuration,
    enoughWords: ({ context, event }) =>
      ruleFor(context).minWords <= 0 ||
      !context.interruption.hasStt ||
      context.interruption.mode === 'manual' ||
      ('words' in event && event.words >= ruleFor(context).minWords),
    ruleEnabled: ({ context }) => ruleFor(context).enabled,
    /** While the agent speaks, all the user said is backchannel: it never interrupts. */
    backchannelHeard: ({ context, event }) => heardBackchannel(context, event),
    /** The user's voice may cut the current speech: interruptible, allowed in this state, no AEC warm-up, no feedback. */
    userAudioMayInterrupt: and(['audioInterruptsAllowed', 'currentInterruptible', 'ruleEnabled', not('aecWarming'), not('backchannelHeard')]),
    aecWarming: stateIn('#activity.aec.warming'),
    aecWarmupNone: ({ context }) => context.aec.warmup <= 0,
    aecWarmupGoesOn: ({ context }) => context.aec.started && context.aec.warmup > 0,
    agentSpoke: ({ context }) => context.current !== null && context.segmentStarted,
    pauseEnabled: ({ context }) => context.pausing.enabled,
    audible: ({ context }) => isAudible(context),
    // The eventless guards below are re-checked after every microstep of every event, so each is one function
    // (a compound `and`/`not` guard costs a lookup and a call per part).
    busyAndNotPaused: ({ context }) => thinks(context),
    notBusyOrPaused: ({ context }) => !thinks(context),
    queuedAndNotSuspended: ({ context }) => context.queue.length > 0 && context.suspended === null,
    suspendedAndNothingCurrent: ({ context }) => context.suspended !== null && context.current === null,
    notSuspended: ({ context }) => context.suspended === null,
    noCooldown: ({ context }) => context.minConsecutiveSpeechDelay <= 0,
    hasPausedSpeech: ({ context }) => context.paused !== null,
    pauseWasReal: ({ context }) => (context.paused?.timeout ?? 0) > 0,
  },
  delays: {
    consecutiveSpeechDelay: ({ context }) => context.minConsecutiveSpeechDelay,
    falseInterruptionTimeout: ({ context }) => context.paused?.timeout ?? 0,
    aecWarmup: ({ context }) => context.aec.warmup,
  },
  actions: {
    enqueue: assign(({ context, event }) => {
      if (event.type !== 'SPEECH_ENQUEUED') return {};
      const entry = { id: event.id, priority: event.priority, seq: context.seq, kind: event.kind };
      return { queue: [...context.queue.filter((q) => q.id !== event.id), entry].sort(byPriorityThenFifo), seq: context.seq + 1 };
    }),
    dropFromQueue: assign({ queue: ({ context, event }) => context.queue.filter((q) => !('id' in event) || q.id !== event.id) }),
    popNext: assign(({ context }) => ({
      current: context.queue[0]!.id,
      currentKind: context.queue[0]!.kind,
      queue: context.queue.slice(1),
      segmentStarted: false,
    })),
    releaseCurrent: assign({ current: null, currentKind: null, segmentStarted: false }),
    markSegmentStarted: assign({ segmentStarted: true }),
    trackToolStep: assign({
      toolSteps: ({ context, event }) =>
        event.type === 'STEP_DONE' && event.toolsPending && !context.toolSteps.includes(event.id) ? [...context.toolSteps, event.id] : context.toolSteps,
    }),
    untrackToolStep: assign({ toolSteps: ({ context, event }) => context.toolSteps.filter((id) => !('id' in event) || id !== event.id) }),
    setToolsRunning: assign(({ context, event }) =>
      event.type !== 'TOOLS_CHANGED' ? {} : { toolsRunning: event.running ?? context.toolsRunning, tools: event.tools ?? context.tools },
    ),
    userStartsSpeaking: assign({ userSpeaking: true }),
    userStopsSpeaking: assign({ userSpeaking: false }),
    capturePause: assign(({ context, event }, params: { preemptive: boolean }) => ({
      paused: { id: factsOf(event)!.id, timeout: params.preemptive ? 0 : context.pausing.falseInterruptionTimeout },
    })),
    /** A pre-emptive pause becomes a real (resumable, reported) interruption once the user's speech counts. */
    makePauseReal: assign(({ context }) => ({ paused: context.paused && { ...context.paused, timeout: context.pausing.falseInterruptionTimeout } })),
    clearPause: assign({ paused: null }),
    blockTurns: assign(({ context }) => ({ acceptingTurns: false, suspended: context.suspended && { acceptingTurns: false } })),
    pauseScheduling: assign(({ context }) => ({ acceptingTurns: false, acceptingSpeech: false, suspended: context.suspended && { acceptingTurns: false } })),
    suspend: assign(({ context }) => ({ suspended: context.suspended ?? { acceptingTurns: context.acceptingTurns }, acceptingTurns: false })),
    resume: assign(({ context }) => ({ acceptingTurns: context.suspended?.acceptingTurns ?? context.acceptingTurns, suspended: null })),
    setCanPause: assign({
      pausing: ({ context, event }) => (event.type === 'CAN_PAUSE_CHANGED' ? { ...context.pausing, enabled: event.pauseEnabled } : context.pausing),
    }),
    // Effects, provided by the runtime:
    authorizeSpeech: (_, _params: { id: string }) => {},
    rejectSpeech: (_, _params: { id: string }) => {},
    pauseOutput: () => {},
    resumeOutput: () => {},
    interruptSpeech: (_, _params: { id: string }) => {},
    /** A real pause ended without a transcript: the interruption was false (resumed: was the speech still there). */
    reportFalseInterruption: (_, _params: { resumed: boolean }) => {},
    /** The committed turn is this activity's to answer; `dropTurn`: it was only backchannel while the agent spoke;
     * `holdTurn`: the rules of the agent's state hold it (its transcript keeps accumulating). */
    acceptTurn: (_, _params: { info: EndOfTurnInfo | undefined }) => {},
    dropTurn: (_, _params: { info: EndOfTurnInfo | undefined }) => {},
    holdTurn: () => {},
    /** The session's AEC warm-up window opened (its first speech is audible). */
    aecWarmupStarted: () => {},
  },
}).createMachine({
  id: 'activity',
  type: 'parallel',
  context: ({ input }) => ({
    queue: [],
    seq: 0,
    current: null,
    currentKind: null,
    minConsecutiveSpeechDelay: input.minConsecutiveSpeechDelay,
    interruption: { ...input.interruption, backchannel: input.backchannel ?? null },
    aec: { warmup: input.aecWarmup ?? 0, started: input.aecWarmupStarted ?? false },
    pausing: { enabled: input.pauseEnabled, falseInterruptionTimeout: input.falseInterruptionTimeout },
    paused: null,
    acceptingTurns: true,
    acceptingSpeech: true,
    segmentStarted: false,
    toolsRunning: 0,
    toolSteps: [],
    userSpeaking: false,
    tools: input.tools ?? [],
    suspended: null,
  }),
  on: {
    // The runtime creates children in this actor's system (`parent`); only the parent may stop them.
    STOP_CHILD: { actions: stopChild(({ event }) => (event as { ref: AnyActorRef }).ref) },
    SPEECH_ENQUEUED: [
      // The speech holding the output is not queued behind itself (its next step is queued after its release).
      { guard: 'isCurrent' },
      { guard: 'acceptsSpeech', actions: 'enqueue' },
      { actions: { type: 'rejectSpeech', params: ({ event }) => ({ id: event.id }) } },
    ],
    PLAYBACK_STARTED: { guard: 'isCurrent', actions: 'markSegmentStarted' },
    TOOLS_CHANGED: { actions: 'setToolsRunning' },
    TOOL_STEP_DONE: { actions: 'untrackToolStep' },
    BLOCK_TURNS: { actions: 'blockTurns' },
    PAUSE_SCHEDULING: { actions: 'pauseScheduling' },
    CAN_PAUSE_CHANGED: { actions: 'setCanPause' },
    SUSPEND: { actions: 'suspend' },
    RESUME: { actions: 'resume' },
    // A committed turn may be accepted only while the activity takes new turns and the rules of the agent's state
    // hold; one that does not is held (its transcript keeps accumulating), except a backchannel, which is dropped.
    END_OF_TURN: [
      { guard: not('acceptsTurns') },
      { guard: and(['currentInterruptible', 'backchannelHeard']), actions: { type: 'dropTurn', params: ({ event }) => ({ info: event.info }) } },
      { guard: and(['currentInterruptible', 'audible', 'aecWarming']), actions: 'holdTurn' },
      { guard: and(['currentInterruptible', not('ruleEnabled')]), actions: 'holdTurn' },
      { guard: and(['currentInterruptible', not('enoughWords')]), actions: 'holdTurn' },
      { actions: { type: 'acceptTurn', params: ({ event }) => ({ info: event.info }) } },
    ],
  },
  states: {
    agent: {
      initial: 'initializing',
      states: {
        initializing: { on: { STARTED: 'listening' } },
        listening: {
          always: [
            { guard: 'audible', target: 'speaking' },
            { guard: 'busyAndNotPaused', target: 'thinking' },
          ],
        },
        thinking: {
          always: [
            { guard: 'audible', target: 'speaking' },
            { guard: 'notBusyOrPaused', target: 'listening' },
          ],
        },
        speaking: {
          always: [
            { guard: 'audible' },
            { guard: 'busyAndNotPaused', target: 'thinking' },
            { target: 'listening' },
          ],
        },
      },
    },
    scheduler: {
      initial: 'idle',
      states: {
        // The next speech is taken off the queue on the way (a transient `selecting` state would cost a microstep).
        idle: { always: { guard: 'queuedAndNotSuspended', target: 'authorized', actions: 'popNext' } },
        authorized: {
          entry: { type: 'authorizeSpeech', params: ({ context }) => ({ id: context.current! }) },
          on: {
            STEP_DONE: { guard: 'isCurrent', target: 'cooldown', actions: ['trackToolStep', 'releaseCurrent'] },
            SPEECH_DONE: { guard: 'isCurrent', target: 'cooldown', actions: 'releaseCurrent' },
          },
        },
        /** `minConsecutiveSpeechDelay` between the end of one speech and the start of the next. */
        cooldown: {
          always: { guard: 'noCooldown', target: 'idle' },
          after: { consecutiveSpeechDelay: 'idle' },
        },
      },
      on: { SPEECH_DONE: { actions: ['dropFromQueue', 'untrackToolStep'] } },
    },
    floor: {
      initial: 'free',
      states: {
        free: { on: { USER_SPEECH_START: { target: 'user', actions: 'userStartsSpeaking' } } },
        user: { on: { USER_SPEECH_END: { target: 'free', actions: 'userStopsSpeaking' } } },
      },
    },
    /** For an AgentTask: `quiet` once suspended and no speech of this activity holds the output. */
    suspension: {
      initial: 'running',
      states: {
        running: { always: { guard: 'suspendedAndNothingCurrent', target: 'quiet' } },
        quiet: { always: { guard: 'notSuspended', target: 'running' } },
      },
    },
    pause: {
      initial: 'none',
      states: {
        none: {
          on: {
            AUDIO_ACTIVITY: [
              {
                guard: and(['userAudioMayInterrupt', 'longEnough', 'enoughWords', 'pauseEnabled']),
                target: 'paused',
                actions: [{ type: 'capturePause', params: { preemptive: false } }, 'pauseOutput'],
              },
              {
                guard: and(['userAudioMayInterrupt', 'longEnough', 'enoughWords']),
                actions: { type: 'interruptSpeech', params: ({ event }) => ({ id: factsOf(event)!.id }) },
              },
            ],
            FINAL_TRANSCRIPT: {
              guard: and(['userAudioMayInterrupt', 'enoughWords']),
              actions: { type: 'interruptSpeech', params: ({ event }) => ({ id: factsOf(event)!.id }) },
            },
            // The user starts while a reply is being prepared: hold its audio back until we know more.
            USER_SPEECH_START: {
              guard: and(['userAudioMayInterrupt', not('audible'), 'pauseEnabled']),
              target: 'paused',
              actions: [{ type: 'capturePause', params: { preemptive: true } }, 'pauseOutput'],
            },
          },
        },
        paused: {
          on: {
            USER_SPEECH_END: 'timing',
            AUDIO_ACTIVITY: {
              guard: and(['userAudioMayInterrupt', 'longEnough', 'enoughWords']),
              actions: 'makePauseReal',
            },
          },
        },
        timing: {
          after: {
            // Only a pause that followed real user audio is reported; a pre-emptive one (timeout 0) resumes silently.
            falseInterruptionTimeout: [
              {
                guard: 'pauseWasReal',
                target: 'none',
                actions: [
                  { type: 'reportFalseInterruption', params: ({ context }) => ({ resumed: context.paused!.id === context.current }) },
                  'clearPause',
                  'resumeOutput',
                ],
              },
              { target: 'none', actions: ['clearPause', 'resumeOutput'] },
            ],
          },
          on: { USER_SPEECH_START: 'paused' },
        },
      },
      on: {
        FINAL_TRANSCRIPT: [
          // Only backchannel ("mhm"): the user was listening, not taking the floor; the speech goes on at once.
          { guard: and(['hasPausedSpeech', 'backchannelHeard']), target: '.none', actions: ['clearPause', 'resumeOutput'] },
          // A transcript means the user really spoke: the paused speech is interrupted for good.
          {
            guard: 'hasPausedSpeech',
            target: '.none',
            actions: [{ type: 'interruptSpeech', params: ({ context }) => ({ id: context.paused!.id }) }, 'clearPause'],
          },
        ],
        // The paused speech ended (or finished its step): its pause must not leak into the next speech.
        STEP_DONE: { guard: 'isPausedSpeech', target: '.none', actions: ['clearPause', 'resumeOutput'] },
        SPEECH_DONE: { guard: 'isPausedSpeech', target: '.none', actions: ['clearPause', 'resumeOutput'] },
      },
    },
    /** Echo cancellation converges on the agent's own voice: from the session's first audible speech, for `aecWarmup`
     * ms, the user's audio cannot cut the agent (its echo would). Context guards only: a PLAYBACK_STARTED handler
     * here would pre-empt the root's. */
    aec: {
      initial: 'pending',
      states: {
        pending: {
          always: [{ guard: 'aecWarmupNone', target: 'ready' }, { guard: 'aecWarmupGoesOn', target: 'warming' }, { guard: 'agentSpoke', target: 'warming', actions: 'aecWarmupStarted' }],
        },
        warming: { after: { aecWarmup: 'ready' } },
        ready: {},
      },
    },
  },
});
