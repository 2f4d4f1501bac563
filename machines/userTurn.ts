import { and, assign, emit, fromPromise, setup } from 'xstate';
import { dynamicMinDelay, learnPause, type EndpointingStats } from './endpointingStats.ts';
import { countWords, pendingText } from './words.ts';

/**
 * The user's side of turn-taking: whether the user speaks, and when their turn ends (endpointing).
 * Times are epoch ms carried by the events (VAD events are back-dated by the caller), so the machine never reads
 * audio and the endpointing delay is an ordinary `after` delay that fake timers control.
 */
export type { DetectorFacts, TurnDetectionMode, TurnDetectorContext, TurnDetector, UserTurnContext, UserTurnEvent, EndOfTurnInfo, UserTurnExceededInfo, UserTurnEmitted, UserTurnInput } from './userTurnTypes.ts';
import type { TurnDetectionMode, TurnDetectorContext, TurnDetector, UserTurnContext, UserTurnEvent, EndOfTurnInfo, UserTurnExceededInfo, UserTurnEmitted, UserTurnInput } from './userTurnTypes.ts';

/**
 * The present as the machine knows it: the `now` an event was sent at, a predictor's answer time, or the latest
 * known (`at` is when speech happened, which VAD events back-date; it is the present only when no `now` is given).
 */
const timeOf = (context: UserTurnContext, event: unknown): number => {
  const e = event as { now?: number; at?: number; output?: { at?: number } };
  return Math.max(context.clock, e.now ?? e.output?.at ?? e.at ?? context.clock);
};

/** Whether `delay` ms after the user's last speech (the present, if none is known) has come by this event. */
const delayOver = (context: UserTurnContext, event: unknown, delay: number): boolean => {
  const now = timeOf(context, event);
  return (context.lastSpeakingAt ?? now) + delay <= now;
};

/** Only a configured, working detector with something to judge (audio, or text for a text model) is asked. */
const noPrediction = (context: UserTurnContext): boolean =>
  !context.detector.present || context.detector.failed || (!context.detector.hearsAudio && !context.transcript.trim());

/** The last accepted turn's end and commit, for dynamic endpointing. */
const rememberedTurn = (context: UserTurnContext): UserTurnContext['endpointing'] =>
  context.lastSpeakingAt !== null && !context.speaking
    ? { ...context.endpointing, lastTurn: { endedAt: context.lastSpeakingAt, committedAt: Math.max(context.clock, context.commitDueAt) } }
    : context.endpointing;

/** A new turn begins: the transcript and its anchors are dropped (one object literal: this runs once per turn). */
const clearedTurn = (context: UserTurnContext, endpointing = context.endpointing): Partial<UserTurnContext> => ({
  endpointing,
  turnSeq: context.turnSeq + 1,
  transcript: '',
  confidences: [],
  interim: '',
  lastFinalAt: null,
  // A user who already started speaking again keeps the anchors of the new utterance.
  speechStartedAt: context.speaking ? context.speechStartedAt : null,
  lastSpeakingAt: context.speaking ? context.lastSpeakingAt : null,
});

export const userTurnMachine = setup({
  types: {
    context: {} as UserTurnContext,
    events: {} as UserTurnEvent,
    input: {} as UserTurnInput,
    emitted: {} as UserTurnEmitted,
  },
  actors: {
    /** Provided by the runtime: the end-of-turn probability and when it was known. */
    predictEndOfTurn: fromPromise<{ probability: number; at: number }, { transcript: string }>(async () => ({ probability: 1, at: 0 })),
  },
  guards: {
    sttMode: ({ context }) => context.mode === 'stt',
    /** With an STT but no final text yet, a VAD end alone never commits (the final will). */
    vadEndCanCommit: ({ context }) => context.mode === 'vad' && (!context.hasStt || context.transcript.trim().length > 0),
    finalCanCommit: ({ context }) => (context.mode === 'vad' && !context.speaking) || (context.mode === 'stt' && context.sttEnded),
    sttEndCanCommit: ({ context }) => context.mode === 'stt' && context.transcript.trim().length > 0,
    userSilent: ({ context }) => !context.speaking,
    nonEmptyFinal: ({ event }) => event.type === 'FINAL_TRANSCRIPT' && event.text.trim().length > 0,
    delayElapsed: ({ context, event }) => delayOver(context, event, context.delay),
    noPrediction: ({ context }) => noPrediction(context),
    /** No detector to ask, and the minimum delay ran out already (a final transcript that came after the pause). */
    commitsAtOnce: ({ context, event }) => noPrediction(context) && delayOver(context, event, dynamicMinDelay(context)),
    turnUnderway: ({ context }) =>
      (context.userTurnLimit.maxWords !== null || context.userTurnLimit.maxDuration !== null) &&
      (context.speechStartedAt !== null || context.transcript.trim().length > 0),
    limitTurnOver: ({ context }) => context.turnSeq !== context.userTurnLimit.watchedTurn,
    tooManyWords: ({ context }) =>
      context.userTurnLimit.maxWords !== null && countWords(pendingText(context.transcript, context.interim)) > context.userTurnLimit.maxWords,
    hasMaxDuration: ({ context }) => context.userTurnLimit.maxDuration !== null,
    endUnlikely: ({ context, event }) =>
      (event as unknown as { output: { probability: number } }).output.probability < context.detector.unlikelyThreshold,
  },
  delays: {
    /** The turn commits at lastSpeakingAt + delay; if that moment passed already, at once. */
    endpointingDelay: ({ context, event }) => {
      const now = timeOf(context, event);
      return Math.max(0, (context.lastSpeakingAt ?? now) + context.delay - now);
    },
    /** The turn exceeds `maxDuration` at speechStartedAt + maxDuration (no limit: never, in practice). */
    userTurnMaxDuration: ({ context, event }) => {
      const max = context.userTurnLimit.maxDuration;
      if (max === null) return 2 ** 31 - 1;
      const now = timeOf(context, event);
      return Math.max(0, (context.speechStartedAt ?? now) + max - now);
    },
  },
  actions: {
    speechStarted: assign(({ context, event }) => ({
      endpointing: learnPause(context, (event as { at: number }).at),
      speaking: true,
      sttEnded: event.type === 'STT_SPEECH_START' ? false : context.sttEnded,
      speechStartedAt: context.speechStartedAt ?? (event as { at: number }).at,
      clock: timeOf(context, event),
    })),
    speechEnded: assign(({ context, event }) => ({
      speaking: false,
      lastSpeakingAt: (event as { at: number }).at,
      sttEnded: event.type === 'STT_SPEECH_END' ? true : context.sttEnded,
      clock: timeOf(context, event),
    })),
    storeInterim: assign(({ context, event }) => ({ interim: event.type === 'INTERIM_TRANSCRIPT' ? event.text : '', clock: timeOf(context, event) })),
    appendFinal: assign(({ context, event }) => {
      if (event.type !== 'FINAL_TRANSCRIPT') return {};
      const text = event.text.trim();
      return {
        transcript: context.transcript ? `${context.transcript} ${text}` : text,
        confidences: event.confidence === undefined ? context.confidences : [...context.confidences, event.confidence],
        interim: '',
        lastFinalAt: event.at,
        clock: timeOf(context, event),
        // Without a VAD-derived anchor, the transcript's own end time (or its arrival) marks the end of speech.
        lastSpeakingAt: context.speaking ? context.lastSpeakingAt : (event.endAt ?? context.lastSpeakingAt ?? event.at),
      };
    }),
    useMinDelay: assign({ delay: ({ context }) => dynamicMinDelay(context) }),
    useMaxDelay: assign({ delay: ({ context }) => context.endpointing.maxDelay }),
    /** An unlikely end holds the pause open up to maxSilence (never shorter than a likely end's delay). */
    holdOpen: assign({ delay: ({ context }) => Math.max(context.endpointing.minDelay, context.detector.maxSilence ?? context.endpointing.maxDelay) }),
    detectorFailed: assign({ detector: ({ context }) => ({ ...context.detector, failed: true }) }),
    planCommit: assign({
      commitDueAt: ({ context, event }) => {
        const now = timeOf(context, event);
        return Math.max(now, (context.lastSpeakingAt ?? now) + context.delay);
      },
    }),
    tick: assign({ clock: ({ context, event }) => timeOf(context, event) }),
    carryOver: assign(({ context, event }) => {
      if (event.type !== 'CARRY_OVER' || !event.transcript.trim()) return {};
      return {
        transcript: context.transcript ? `${event.transcript} ${context.transcript}` : event.transcript,
        speechStartedAt: event.speechStartedAt ?? context.speechStartedAt,
        lastSpeakingAt: context.lastSpeakingAt ?? event.lastSpeakingAt,
        lastFinalAt: context.lastFinalAt ?? event.lastFinalAt,
        clock: timeOf(context, event),
      };
    }),
    requestCommit: emit(({ context, event }) => ({
      type: 'endOfTurn' as const,
      info: {
        transcript: context.transcript,
        confidence: context.confidences.length
          ? context.confidences.reduce((a, b) => a + b, 0) / context.confidences.length
          : undefined,
        speechStartedAt: context.speechStartedAt,
        lastSpeakingAt: context.lastSpeakingAt,
        lastFinalAt: context.lastFinalAt,
        // A commit by the endpointing timer happened when the delay ran out; any other, at its event.
        committedAt: event.type.startsWith('xstate.after') ? context.commitDueAt : timeOf(context, event),
      },
    })),
    /** The accepted turn is remembered (its end and commit: a user who resumes right after it was cut off in a
     * pause) and cleared, in one context update. */
    rememberAndClearTurn: assign(({ context }) => clearedTurn(context, rememberedTurn(context))),
    trackLimitTurn: assign({ userTurnLimit: ({ context }) => ({ ...context.userTurnLimit, watchedTurn: context.turnSeq }) }),
    exceeded: emit(({ context, event }, params: { reason: 'maxWords' | 'maxDuration' }) => {
      const now = params.reason === 'maxDuration' ? (context.speechStartedAt ?? context.clock) + context.userTurnLimit.maxDuration! : timeOf(context, event);
      const transcript = pendingText(context.transcript, context.interim);
      return {
        type: 'userTurnExceeded' as const,
        info: {
          reason: params.reason,
          transcript,
          words: countWords(transcript),
          durationMs: Math.max(0, now - (context.speechStartedAt ?? now)),
        },
      };
    }),
    clearTurn: assign(({ context }) => clearedTurn(context)),
    updateEndpointing: assign(({ context, event }) =>
      event.type === 'UPDATE_ENDPOINTING'
        ? { endpointing: { ...context.endpointing, minDelay: event.minDelay ?? context.endpointing.minDelay, maxDelay: event.maxDelay ?? context.endpointing.maxDelay } }
        : {},
    ),
  },
}).createMachine({
  id: 'userTurn',
  type: 'parallel',
  context: ({ input }) => ({
    mode: input.mode,
    hasStt: input.hasStt,
    detector: {
      present: !!input.detector,
      unlikelyThreshold: input.detector?.unlikelyThreshold ?? 0,
      hearsAudio: input.detector?.input === 'audio',
      maxSilence: input.detector?.maxSilence ?? null,
      failed: false,
    },
    transcript: '',
    confidences: [],
    interim: '',
    speaking: false,
    speechStartedAt: null,
    lastSpeakingAt: null,
    lastFinalAt: null,
    sttEnded: false,
    delay: input.minDelay,
    clock: input.now,
    commitDueAt: input.now,
    endpointing: {
      minDelay: input.minDelay,
      maxDelay: input.maxDelay,
      mode: input.endpointing?.mode ?? 'fixed',
      alpha: input.endpointing?.alpha ?? 0.9,
      pauseEma: null,
      lastTurn: null,
    },
    userTurnLimit: { maxWords: input.userTurnLimit?.maxWords ?? null, maxDuration: input.userTurnLimit?.maxDuration ?? null, watchedTurn: 0 },
    turnSeq: 0,
  }),
  on: {
    INTERIM_TRANSCRIPT: { actions: 'storeInterim' },
    TURN_ACCEPTED: { actions: 'rememberAndClearTurn' },
    CLEAR_TURN: { actions: 'clearTurn', target: '.endpointing.idle' },
    UPDATE_ENDPOINTING: { actions: 'updateEndpointing' },
  },
  states: {
    user: {
      initial: 'listening',
      states: {
        listening: {
          on: {
            VAD_SPEECH_START: 'speaking',
            STT_SPEECH_START: { guard: 'sttMode', target: 'speaking' },
            USER_AWAY: 'away',
          },
        },
        speaking: {
          on: {
            VAD_SPEECH_END: 'listening',
            STT_SPEECH_END: { guard: 'sttMode', target: 'listening' },
          },
        },
        away: {
          on: {
            VAD_SPEECH_START: 'speaking',
            STT_SPEECH_START: { guard: 'sttMode', target: 'speaking' },
            FINAL_TRANSCRIPT: { guard: 'nonEmptyFinal', target: 'listening' },
          },
        },
      },
    },
    endpointing: {
      initial: 'idle',
      on: {
        VAD_SPEECH_START: { target: '.idle', actions: 'speechStarted' },
        STT_SPEECH_START: { guard: 'sttMode', target: '.idle', actions: 'speechStarted' },
        COMMIT_TURN: { target: '.idle', actions: ['tick', 'requestCommit'] },
        // The carried transcript is committed like a final one: at once if the user is silent, else with this utterance.
        CARRY_OVER: [
          { guard: 'userSilent', target: '.deciding', actions: 'carryOver' },
          { actions: 'carryOver' },
        ],
      },
      states: {
        idle: {
          on: {
            VAD_SPEECH_END: [
              { guard: 'vadEndCanCommit', target: 'deciding', actions: 'speechEnded' },
              { actions: 'speechEnded' },
            ],
            STT_SPEECH_END: [
              { guard: 'sttEndCanCommit', target: 'deciding', actions: 'speechEnded' },
              { guard: 'sttMode', actions: 'speechEnded' },
            ],
            FINAL_TRANSCRIPT: [
              { guard: and(['nonEmptyFinal', 'finalCanCommit']), actions: 'appendFinal', target: 'deciding' },
              { guard: 'nonEmptyFinal', actions: 'appendFinal' },
            ],
          },
        },
        /** A commit is pending: first ask the detector (if any), then wait out the endpointing delay. */
        deciding: {
          initial: 'choosing',
          on: {
            VAD_SPEECH_END: { actions: 'speechEnded', target: 'deciding', reenter: true },
            FINAL_TRANSCRIPT: { guard: 'nonEmptyFinal', actions: 'appendFinal', target: 'deciding', reenter: true },
          },
          states: {
            /** Only a configured detector with text to judge is asked; otherwise the minimum delay applies. */
            choosing: {
              always: [
                // Straight to the commit: entering `waiting` would arm its delay only to cancel it in the same step.
                { guard: 'commitsAtOnce', target: '#userTurn.endpointing.idle', actions: ['useMinDelay', 'planCommit', 'requestCommit'] },
                { guard: 'noPrediction', target: 'waiting', actions: 'useMinDelay' },
                { target: 'predicting' },
              ],
            },
            predicting: {
              invoke: {
                src: 'predictEndOfTurn',
                input: ({ context }) => ({ transcript: context.transcript }),
                onDone: [
                  { guard: 'endUnlikely', target: 'waiting', actions: 'holdOpen' },
                  { target: 'waiting', actions: 'useMinDelay' },
                ],
                // A failed detector is not asked again by this activity: the VAD delays decide from now on.
                onError: { target: 'waiting', actions: ['useMinDelay', 'detectorFailed'] },
              },
            },
            waiting: {
              entry: 'planCommit',
              // A delay that has already elapsed commits at once (a 0 ms timer would still cost a tick).
              always: { guard: 'delayElapsed', target: '#userTurn.endpointing.idle', actions: 'requestCommit' },
              after: { endpointingDelay: { target: '#userTurn.endpointing.idle', actions: 'requestCommit' } },
            },
          },
        },
      },
    },
    /**
     * `userTurnLimit`: once per turn, when the ongoing turn says more than `maxWords` or lasts past `maxDuration`
     * from its first speech, `userTurnExceeded` is emitted (the agent's `onUserTurnExceeded` runs). Context guards
     * only: this region handles no event the root handles (a region's handler would pre-empt the root's).
     */
    limit: {
      initial: 'idle',
      states: {
        idle: { always: { guard: 'turnUnderway', target: 'timing', actions: 'trackLimitTurn' } },
        timing: {
          always: [
            { guard: 'limitTurnOver', target: 'idle' },
            { guard: 'tooManyWords', target: 'exceeded', actions: { type: 'exceeded', params: { reason: 'maxWords' } } },
          ],
          after: { userTurnMaxDuration: { guard: 'hasMaxDuration', target: 'exceeded', actions: { type: 'exceeded', params: { reason: 'maxDuration' } } } },
        },
        exceeded: { always: { guard: 'limitTurnOver', target: 'idle' } },
      },
    },
  },
});
