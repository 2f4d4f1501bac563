/** The user-turn machine's context, events, input and the detector interface (machines/userTurn.ts). */
import type { EndpointingStats } from './endpointingStats.ts';

export type TurnDetectionMode = 'vad' | 'stt' | 'manual';

/** What a detector gets besides the transcript; the runtime fills in what the detector's `input` asks for. */
export interface TurnDetectorContext {
  /** The agent's chat context (a ChatContext), for transcript-based models. */
  readonly chatCtx?: unknown;
  /** Audio models: the user's most recent audio, mono 16 kHz, −1..1, newest sample last. */
  readonly audio?: Float32Array;
}

/** Optional end-of-turn model: probability that the user finished, given the transcript (or audio) so far. */
export interface TurnDetector {
  readonly label: string;
  /** Probability below which the turn is held open (`maxSilence`, else `maxDelay`) instead of ending at `minDelay`. */
  readonly unlikelyThreshold: number;
  /** What the model judges: the transcript (default) or the user's audio; an audio model is asked even with no text. */
  readonly input?: 'text' | 'audio' | undefined;
  /** ms of silence an unlikely end holds the turn open at most (default: the endpointing `maxDelay`). */
  readonly maxSilence?: number | undefined;
  predictEndOfTurn(transcript: string, context?: TurnDetectorContext): Promise<number>;
}

/** The end-of-turn model as the user-turn machine knows it. */
export interface DetectorFacts {
  /** An end-of-turn model is provided (as the `predictEndOfTurn` actor). */
  present: boolean;
  /** Probability below which `maxDelay` applies instead of `minDelay`. */
  unlikelyThreshold: number;
  /** The detector judges audio: it is asked even when there is no transcript. */
  hearsAudio: boolean;
  /** ms of silence an unlikely end is held open at most (null: maxDelay). */
  maxSilence: number | null;
  /** The detector failed in this activity: endpointing falls back to the VAD delays. */
  failed: boolean;
}

/**
 * Kept to at most 19 top-level fields, related settings grouped: XState's `assign` copies the context with
 * `Object.assign({}, …)`, and V8 turns an object built that way with 20 or more properties into a slow dictionary
 * object, which made every assign and guard of a turn several times slower (test/machines.contextShape.test.ts).
 */
export interface UserTurnContext {
  mode: TurnDetectionMode;
  hasStt: boolean;
  detector: DetectorFacts;
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
  /** Epoch ms of the latest timed event: the machine keeps no clock of its own. */
  clock: number;
  /** When the pending commit's delay runs out (set on entering `waiting`). */
  commitDueAt: number;
  /** The endpointing delays and (dynamic endpointing) the user's pauses as measured in this conversation. */
  endpointing: EndpointingStats;
  /** User-turn limits (null: none) and `watchedTurn`, the turn the limit region watches; `turnSeq` counts ended turns. */
  userTurnLimit: { maxWords: number | null; maxDuration: number | null; watchedTurn: number };
  turnSeq: number;
}

/** Every event may carry `now`: the epoch ms it was sent at (the machine keeps no clock of its own). */
export type UserTurnEvent =
  | { type: 'VAD_SPEECH_START'; at: number; now?: number }
  | { type: 'VAD_SPEECH_END'; at: number; now?: number }
  | { type: 'STT_SPEECH_START'; at: number; now?: number }
  | { type: 'STT_SPEECH_END'; at: number; now?: number }
  | { type: 'INTERIM_TRANSCRIPT'; text: string; at?: number }
  | { type: 'FINAL_TRANSCRIPT'; text: string; confidence?: number; at: number; endAt?: number; now?: number }
  | { type: 'USER_AWAY'; at?: number }
  | { type: 'COMMIT_TURN'; at?: number }
  | { type: 'TURN_ACCEPTED'; at?: number }
  | { type: 'CLEAR_TURN'; at?: number }
  /** A transcript the previous agent collected but did not commit (handoff): this turn goes on with it. */
  | { type: 'CARRY_OVER'; transcript: string; speechStartedAt: number | null; lastSpeakingAt: number | null; lastFinalAt: number | null; at: number }
  | { type: 'UPDATE_ENDPOINTING'; minDelay?: number; maxDelay?: number };

export interface EndOfTurnInfo {
  transcript: string;
  confidence: number | undefined;
  speechStartedAt: number | null;
  lastSpeakingAt: number | null;
  lastFinalAt: number | null;
  committedAt: number;
}

/** The ongoing user turn went past a `userTurnLimit`. */
export interface UserTurnExceededInfo {
  reason: 'maxWords' | 'maxDuration';
  transcript: string;
  words: number;
  /** ms since the turn's speech began. */
  durationMs: number;
}

export type UserTurnEmitted = { type: 'endOfTurn'; info: EndOfTurnInfo } | { type: 'userTurnExceeded'; info: UserTurnExceededInfo };

export interface UserTurnInput {
  mode: TurnDetectionMode;
  hasStt: boolean;
  minDelay: number;
  maxDelay: number;
  /** The end-of-turn model, if any: only its threshold is kept; the runtime provides the predictor actor. */
  detector?: { unlikelyThreshold: number; input?: 'text' | 'audio' | undefined; maxSilence?: number | undefined } | null;
  /** Epoch ms at creation. */
  now: number;
  /** `dynamic`: the minimum delay follows the user's measured pauses (EMA weight `alpha` on the past). */
  endpointing?: { mode: 'fixed' | 'dynamic'; alpha: number };
  userTurnLimit?: { maxWords?: number | null; maxDuration?: number | null };
}
