import { and, assign, emit, fromPromise, setup } from 'xstate';

/**
 * The user's side of turn-taking: whether the user speaks, and when their turn ends (endpointing).
 * Times are epoch ms carried by the events (VAD events are back-dated by the caller), so the machine never reads
 * audio and the endpointing delay is an ordinary `after` delay that fake timers control.
 */
export type TurnDetectionMode = 'vad' | 'stt' | 'manual';

/** Optional end-of-turn model: probability that the user finished, given the transcript so far. */
export interface TurnDetector {
  readonly label: string;
  /** Probability below which `maxDelay` applies instead of `minDelay`. */
  readonly unlikelyThreshold: number;
  predictEndOfTurn(transcript: string): Promise<number>;
}

export interface UserTurnContext {
  mode: TurnDetectionMode;
  hasStt: boolean;
  minDelay: number;
  maxDelay: number;
  detector: TurnDetector | null;
  transcript: string;
  confidences: number[];
  interim: string;
  /** VAD (or STT in stt mode) says the user is speaking right now. */
  speaking: boolean;
  speechStartedAt: number | null;
  lastSpeakingAt: number | null;
  lastFinalAt: number | null;
  /** stt mode: the STT reported the end of speech, so a late final transcript ends the turn. */
  sttEnded: boolean;
  /** Delay chosen for the pending commit. */
  delay: number;
  now: () => number;
}

export type UserTurnEvent =
  | { type: 'VAD_SPEECH_START'; at: number }
  | { type: 'VAD_SPEECH_END'; at: number }
  | { type: 'STT_SPEECH_START'; at: number }
  | { type: 'STT_SPEECH_END'; at: number }
  | { type: 'INTERIM_TRANSCRIPT'; text: string }
  | { type: 'FINAL_TRANSCRIPT'; text: string; confidence?: number; at: number; endAt?: number }
  | { type: 'USER_AWAY' }
  | { type: 'COMMIT_TURN' }
  | { type: 'TURN_ACCEPTED' }
  | { type: 'CLEAR_TURN' }
  | { type: 'UPDATE_ENDPOINTING'; minDelay?: number; maxDelay?: number };

export interface EndOfTurnInfo {
  transcript: string;
  confidence: number | undefined;
  speechStartedAt: number | null;
  lastSpeakingAt: number | null;
  lastFinalAt: number | null;
  committedAt: number;
}

export type UserTurnEmitted = { type: 'endOfTurn'; info: EndOfTurnInfo };

export interface UserTurnInput {
  mode: TurnDetectionMode;
  hasStt: boolean;
  minDelay: number;
  maxDelay: number;
  detector?: TurnDetector | null;
  now?: () => number;
}

export const userTurnMachine = setup({
  types: {
    context: {} as UserTurnContext,
    events: {} as UserTurnEvent,
    input: {} as UserTurnInput,
    emitted: {} as UserTurnEmitted,
  },
  actors: {
    predictEndOfTurn: fromPromise<number, { detector: TurnDetector; transcript: string }>(({ input }) =>
      input.detector.predictEndOfTurn(input.transcript),
    ),
  },
  guards: {
    sttMode: ({ context }) => context.mode === 'stt',
    /** With an STT but no final text yet, a VAD end alone never commits (the final will). */
    vadEndCanCommit: ({ context }) => context.mode === 'vad' && (!context.hasStt || context.transcript.trim().length > 0),
    finalCanCommit: ({ context }) => (context.mode === 'vad' && !context.speaking) || (context.mode === 'stt' && context.sttEnded),
    sttEndCanCommit: ({ context }) => context.mode === 'stt' && context.transcript.trim().length > 0,
    nonEmptyFinal: ({ event }) => event.type === 'FINAL_TRANSCRIPT' && event.text.trim().length > 0,
    delayElapsed: ({ context }) => (context.lastSpeakingAt ?? context.now()) + context.delay <= context.now(),
    noPrediction: ({ context }) => context.detector === null || !context.transcript.trim(),
    endUnlikely: ({ context, event }) =>
      context.detector !== null && (event as unknown as { output: number }).output < context.detector.unlikelyThreshold,
  },
  delays: {
    /** The turn commits at lastSpeakingAt + delay; if that moment passed already, at once. */
    endpointingDelay: ({ context }) =>
      Math.max(0, (context.lastSpeakingAt ?? context.now()) + context.delay - context.now()),
  },
  actions: {
    speechStarted: assign(({ context, event }) => ({
      speaking: true,
      sttEnded: event.type === 'STT_SPEECH_START' ? false : context.sttEnded,
      speechStartedAt: context.speechStartedAt ?? (event as { at: number }).at,
    })),
    speechEnded: assign(({ context, event }) => ({
      speaking: false,
      lastSpeakingAt: (event as { at: number }).at,
      sttEnded: event.type === 'STT_SPEECH_END' ? true : context.sttEnded,
    })),
    storeInterim: assign({ interim: ({ event }) => (event.type === 'INTERIM_TRANSCRIPT' ? event.text : '') }),
    appendFinal: assign(({ context, event }) => {
      if (event.type !== 'FINAL_TRANSCRIPT') return {};
      const text = event.text.trim();
      return {
        transcript: context.transcript ? `${context.transcript} ${text}` : text,
        confidences: event.confidence === undefined ? context.confidences : [...context.confidences, event.confidence],
        interim: '',
        lastFinalAt: event.at,
        // Without a VAD-derived anchor, the transcript's own end time (or its arrival) marks the end of speech.
        lastSpeakingAt: context.speaking ? context.lastSpeakingAt : (event.endAt ?? context.lastSpeakingAt ?? event.at),
      };
    }),
    useMinDelay: assign({ delay: ({ context }) => context.minDelay }),
    useMaxDelay: assign({ delay: ({ context }) => context.maxDelay }),
    requestCommit: emit(({ context }) => ({
      type: 'endOfTurn' as const,
      info: {
        transcript: context.transcript,
        confidence: context.confidences.length
          ? context.confidences.reduce((a, b) => a + b, 0) / context.confidences.length
          : undefined,
        speechStartedAt: context.speechStartedAt,
        lastSpeakingAt: context.lastSpeakingAt,
        lastFinalAt: context.lastFinalAt,
        committedAt: context.now(),
      },
    })),
    clearTurn: assign(({ context }) => ({
      transcript: '',
      confidences: [],
      interim: '',
      lastFinalAt: null,
      // A user who already started speaking again keeps the anchors of the new utterance.
      speechStartedAt: context.speaking ? context.speechStartedAt : null,
      lastSpeakingAt: context.speaking ? context.lastSpeakingAt : null,
    })),
    updateEndpointing: assign(({ context, event }) =>
      event.type === 'UPDATE_ENDPOINTING'
        ? { minDelay: event.minDelay ?? context.minDelay, maxDelay: event.maxDelay ?? context.maxDelay }
        : {},
    ),
  },
}).createMachine({
  id: 'userTurn',
  type: 'parallel',
  context: ({ input }) => ({
    mode: input.mode,
    hasStt: input.hasStt,
    minDelay: input.minDelay,
    maxDelay: input.maxDelay,
    detector: input.detector ?? null,
    transcript: '',
    confidences: [],
    interim: '',
    speaking: false,
    speechStartedAt: null,
    lastSpeakingAt: null,
    lastFinalAt: null,
    sttEnded: false,
    delay: input.minDelay,
    now: input.now ?? Date.now,
  }),
  on: {
    INTERIM_TRANSCRIPT: { actions: 'storeInterim' },
    TURN_ACCEPTED: { actions: 'clearTurn' },
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
        COMMIT_TURN: { target: '.idle', actions: 'requestCommit' },
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
              always: [{ guard: 'noPrediction', target: 'waiting', actions: 'useMinDelay' }, { target: 'predicting' }],
            },
            predicting: {
              invoke: {
                src: 'predictEndOfTurn',
                input: ({ context }) => ({ detector: context.detector!, transcript: context.transcript }),
                onDone: [
                  { guard: 'endUnlikely', target: 'waiting', actions: 'useMaxDelay' },
                  { target: 'waiting', actions: 'useMinDelay' },
                ],
                onError: { target: 'waiting', actions: 'useMinDelay' },
              },
            },
            waiting: {
              // A delay that has already elapsed commits at once (a 0 ms timer would still cost a tick).
              always: { guard: 'delayElapsed', target: '#userTurn.endpointing.idle', actions: 'requestCommit' },
              after: { endpointingDelay: { target: '#userTurn.endpointing.idle', actions: 'requestCommit' } },
            },
          },
        },
      },
    },
  },
});
