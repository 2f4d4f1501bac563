/** The activity machine's context, events and input (machines/activity.ts). */
import type { AnyActorRef } from 'xstate';
import type { BackchannelPhrases } from './backchannel.ts';
import type { InterruptionPolicy } from './interruptionRules.ts';
import type { EndOfTurnInfo } from './userTurn.ts';

export type AgentState = 'initializing' | 'listening' | 'thinking' | 'speaking';

/** What the runtime knows of the current speech when it reports user activity. */
export interface CurrentSpeechFacts {
  id: string;
  interrupted: boolean;
  allowInterruptions: boolean;
}

export type SpeechKind = 'say' | 'reply';

export interface QueuedSpeech {
  id: string;
  priority: number;
  seq: number;
  kind: SpeechKind;
}

export interface PausedSpeech {
  id: string;
  /** ms of user silence after which the interruption is declared false; 0: a silent, pre-emptive pause. */
  timeout: number;
}

/**
 * Kept to at most 19 top-level fields, related settings grouped: XState's `assign` copies the context with
 * `Object.assign({}, …)`, and V8 turns an object built that way with 20 or more properties into a slow dictionary
 * object, which made every assign and guard of a turn several times slower (test/machines.contextShape.test.ts).
 */
export interface ActivityContext {
  queue: QueuedSpeech[];
  seq: number;
  current: string | null;
  currentKind: SpeechKind | null;
  minConsecutiveSpeechDelay: number;
  /** Interruption rules (`speaking`/`thinking` override the top-level values in that agent state) and the
   * backchannel phrases that never interrupt the agent's speech (null: filter off). */
  interruption: InterruptionPolicy & { backchannel: BackchannelPhrases | null };
  /** `warmup`: ms of the session's AEC warm-up window left for this activity (0: none or over); `started`: it began
   * under an earlier activity (a handoff during the first speech) and goes on at once. */
  aec: { warmup: number; started: boolean };
  /** False-interruption pauses: whether the output may pause for the user, and after how many ms of their silence
   * a pause is declared a false interruption. */
  pausing: { enabled: boolean; falseInterruptionTimeout: number };
  paused: PausedSpeech | null;
  acceptingTurns: boolean;
  acceptingSpeech: boolean;
  /** The current speech's segment reported its first audible frame (it may be paused since). */
  segmentStarted: boolean;
  /** Tool calls running for any speech of this activity. */
  toolsRunning: number;
  /** Speeches whose step played and whose tool outputs are still to be answered (or not): the agent thinks. */
  toolSteps: string[];
  /** The user holds the floor (VAD, or STT without VAD): no speech starts playing meanwhile. */
  userSpeaking: boolean;
  /** The agent's tools (session + agent, toolsets flattened): names and flags, what a step may be offered. */
  tools: ActivityTool[];
  /** Paused for an AgentTask: no speech is authorised, no turn accepted; `acceptingTurns` to restore on resume. */
  suspended: { acceptingTurns: boolean } | null;
}

export interface ActivityTool {
  name: string;
  flags: string[];
}

export type ActivityEvent =
  | { type: 'STARTED' }
  | { type: 'SPEECH_ENQUEUED'; id: string; priority: number; kind: SpeechKind; force?: boolean }
  | { type: 'SPEECH_DONE'; id: string }
  /** A step's playout ended; `toolsPending`: its tools still have to return and be answered. */
  | { type: 'STEP_DONE'; id: string; toolsPending?: boolean }
  /** The tools of a speech's step returned and their follow-up (a tool reply, or none) is decided. */
  | { type: 'TOOL_STEP_DONE'; id: string }
  | { type: 'PLAYBACK_STARTED'; id: string }
  /** Tool calls running changed (`running`), or the agent's tools were updated (`tools`). */
  | { type: 'TOOLS_CHANGED'; running?: number; tools?: ActivityTool[] }
  | { type: 'USER_SPEECH_START'; current: CurrentSpeechFacts | null }
  | { type: 'USER_SPEECH_END' }
  /** `transcript`: what the user said so far in this turn (finals and the interim), for the backchannel filter. */
  | { type: 'AUDIO_ACTIVITY'; speechDuration: number; words: number; current: CurrentSpeechFacts | null; transcript?: string }
  | { type: 'FINAL_TRANSCRIPT'; words: number; current: CurrentSpeechFacts | null; transcript?: string; language?: string }
  | { type: 'END_OF_TURN'; words: number; current: CurrentSpeechFacts | null; transcript?: string; info?: EndOfTurnInfo }
  | { type: 'BLOCK_TURNS' }
  | { type: 'PAUSE_SCHEDULING' }
  | { type: 'CAN_PAUSE_CHANGED'; pauseEnabled: boolean }
  /** An AgentTask takes the conversation: hold the queue (the speech playing finishes), take no turns. */
  | { type: 'SUSPEND' }
  | { type: 'RESUME' }
  /** Stops a child the runtime created under this actor (recognition, user turn). */
  | { type: 'STOP_CHILD'; ref: AnyActorRef };

export interface ActivityInput {
  minConsecutiveSpeechDelay: number;
  interruption: InterruptionPolicy;
  pauseEnabled: boolean;
  falseInterruptionTimeout: number;
  /** Phrases that never interrupt the agent's speech (null or absent: filter off). */
  backchannel?: BackchannelPhrases | null;
  /** ms of the session's AEC warm-up window left; `aecWarmupStarted`: it began under an earlier activity. */
  aecWarmup?: number;
  aecWarmupStarted?: boolean;
  tools?: ActivityTool[];
}
