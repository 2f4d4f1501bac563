import type { TurnDetectionMode, TurnDetector } from '../../machines/userTurn.ts';
import type { Tool } from '../llm/toolset.ts';
import { validateTurnDetector } from '../turn/types.ts';
import type { LLM, STT, TTS, VAD } from '../providers/types.ts';
import type { TextTransformName } from './textPipeline.ts';
import type { InspectionEvent, Observer } from 'xstate';
import type { NoiseCancellation } from '../noise/rnnoise.ts';
import type { VideoSampler, VoiceActivityVideoSampler } from '../room/videoSampler.ts';
import { mergeTurnHandling, resolveTurnExtras, type ResolvedTurnExtras, type TurnExtrasInput } from './turnOptions.ts';
import type { BackchannelOptions, InterruptionStateRule, PreemptiveGenerationOptions, UserTurnLimitOptions } from './turnOptions.ts';

export interface TurnHandlingOptions {
  /**
   * How the end of a user turn is decided; a detector object (a TextTurnDetector, or an audio model such as
   * `OnnxTurnDetector` from `voicechart/plugins/turn-detector`) adds an end-of-turn model to VAD endpointing.
   */
  turnDetection?: TurnDetectionMode | TurnDetector;
  /** `mode: 'dynamic'` learns the delay from the user's pauses (EMA weight `alpha`, default 0.9), within min..max. */
  endpointing?: { minDelay?: number; maxDelay?: number; mode?: 'fixed' | 'dynamic'; alpha?: number };
  interruption?: {
    enabled?: boolean;
    minDuration?: number;
    minWords?: number;
    /** null disables pausing (interruptions then always stop the speech). */
    falseInterruptionTimeout?: number | null;
    resumeFalseInterruption?: boolean;
    /** Rules while the agent speaks / thinks; unset keys take the values above. */
    speaking?: InterruptionStateRule;
    thinking?: InterruptionStateRule;
    /** Utterances made only of these phrases never interrupt the agent's speech nor get a reply meanwhile. */
    backchannel?: BackchannelOptions;
  };
  /** ms from the session's first audible speech during which the user's audio cannot interrupt (default 3000; null: off). */
  aecWarmupDuration?: number | null;
  /** Overrides the session's top-level `preemptiveGeneration` (and lets an Agent set its own). */
  preemptiveGeneration?: boolean | PreemptiveGenerationOptions;
  /** Limits of one ongoing user turn; past one, `Agent.onUserTurnExceeded` runs. */
  userTurnLimit?: UserTurnLimitOptions;
}

export interface AgentSessionOptions<UserData = unknown> {
  stt?: STT | string | null;
  llm?: LLM | string | null;
  tts?: TTS | string | null;
  vad?: VAD | null;
  turnHandling?: TurnHandlingOptions;
  tools?: Tool[];
  maxToolSteps?: number;
  /** ms; null disables the away state. */
  userAwayTimeout?: number | null;
  minConsecutiveSpeechDelay?: number;
  ttsTextTransforms?: TextTransformName[] | null;
  useTtsAlignedTranscript?: boolean;
  preemptiveGeneration?: boolean | PreemptiveGenerationOptions;
  /** Unrecoverable errors of one kind (llm, stt, tts) tolerated before the session closes with reason `error`. */
  maxUnrecoverableErrors?: number;
  /**
   * ms that closing waits for user code (tools that ignore their abort signal, hooks that never return) and that
   * a drain waits for speeches to finish; then the session closes regardless. close() resolves within this bound.
   */
  closeTimeout?: number;
  userdata?: UserData;
  /** Cleans the input audio before VAD and STT, e.g. `rnnoise()`. */
  noiseCancellation?: NoiseCancellation;
  /**
   * Which frames of a room's video input (`roomInputOptions.videoEnabled`) are kept: default a
   * VoiceActivityVideoSampler (~1 fps while the user speaks, ~0.3 fps silent), a function, or null (no video).
   */
  videoSampler?: VideoSampler | VoiceActivityVideoSampler | null;
  /** XState inspection observer applied to every actor of the session (see `voicechart` inspect helpers). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

export interface ResolvedSessionOptions extends ResolvedTurnExtras {
  /** The session's own turn-handling input (sparse): an Agent's `turnHandling` is resolved over it. */
  turnHandling: TurnHandlingOptions;
  turnDetection: TurnDetectionMode;
  turnDetector: TurnDetector | null;
  minEndpointingDelay: number;
  maxEndpointingDelay: number;
  allowInterruptions: boolean;
  minInterruptionDuration: number;
  minInterruptionWords: number;
  falseInterruptionTimeout: number | null;
  resumeFalseInterruption: boolean;
  maxToolSteps: number;
  userAwayTimeout: number | null;
  minConsecutiveSpeechDelay: number;
  ttsTextTransforms: TextTransformName[] | null;
  useTtsAlignedTranscript: boolean;
  preemptiveGeneration: boolean;
  maxUnrecoverableErrors: number;
  closeTimeout: number;
}

const nonNegative = (name: string, v: number | undefined, dflt: number): number => {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new RangeError(`${name} must be a non-negative number of ms, got ${v}`);
  return x;
};

export function resolveSessionOptions(o: AgentSessionOptions<unknown>): ResolvedSessionOptions {
  const th: TurnHandlingOptions = { preemptiveGeneration: o.preemptiveGeneration, ...o.turnHandling };
  const { preemptiveEnabled, ...extras } = resolveTurnExtras(th as TurnExtrasInput);
  const td = th.turnDetection;
  const mode: TurnDetectionMode = typeof td === 'string' ? td : 'vad';
  if (!['vad', 'stt', 'manual'].includes(mode)) throw new RangeError(`turnDetection must be 'vad', 'stt', 'manual' or a detector, got ${String(td)}`);
  const itr = th.interruption ?? {};
  const minDelay = nonNegative('endpointing.minDelay', th.endpointing?.minDelay, 500);
  const maxDelay = nonNegative('endpointing.maxDelay', th.endpointing?.maxDelay, 3000);
  if (maxDelay < minDelay) throw new RangeError(`endpointing.maxDelay (${maxDelay}) must be ≥ minDelay (${minDelay})`);
  const maxToolSteps = o.maxToolSteps ?? 3;
  if (!Number.isInteger(maxToolSteps) || maxToolSteps < 0) throw new RangeError(`maxToolSteps must be a non-negative integer`);
  return {
    turnHandling: th,
    ...extras,
    turnDetection: mode,
    turnDetector: td && typeof td === 'object' ? validateTurnDetector(td) : null,
    minEndpointingDelay: minDelay,
    maxEndpointingDelay: maxDelay,
    allowInterruptions: itr.enabled ?? true,
    minInterruptionDuration: nonNegative('interruption.minDuration', itr.minDuration, 500),
    minInterruptionWords: nonNegative('interruption.minWords', itr.minWords, 0),
    falseInterruptionTimeout:
      itr.falseInterruptionTimeout === null ? null : nonNegative('interruption.falseInterruptionTimeout', itr.falseInterruptionTimeout, 2000),
    resumeFalseInterruption: itr.resumeFalseInterruption ?? true,
    maxToolSteps,
    userAwayTimeout: o.userAwayTimeout === null ? null : nonNegative('userAwayTimeout', o.userAwayTimeout, 15000),
    minConsecutiveSpeechDelay: nonNegative('minConsecutiveSpeechDelay', o.minConsecutiveSpeechDelay, 0),
    ttsTextTransforms: o.ttsTextTransforms === undefined ? ['filter_markdown', 'filter_emoji'] : o.ttsTextTransforms,
    useTtsAlignedTranscript: o.useTtsAlignedTranscript ?? false,
    preemptiveGeneration: preemptiveEnabled,
    maxUnrecoverableErrors: o.maxUnrecoverableErrors ?? 3,
    closeTimeout: nonNegative('closeTimeout', o.closeTimeout, 2000),
  };
}

/** The options one agent runs with: its `turnHandling` resolved over the session's, key by key. */
export function optionsForAgent(session: ResolvedSessionOptions, agentTurnHandling: TurnHandlingOptions | undefined): ResolvedSessionOptions {
  if (!agentTurnHandling) return session;
  const th = mergeTurnHandling(session.turnHandling, agentTurnHandling);
  const { ttsTextTransforms, useTtsAlignedTranscript, maxToolSteps, userAwayTimeout, minConsecutiveSpeechDelay, maxUnrecoverableErrors, closeTimeout } = session;
  return resolveSessionOptions({
    turnHandling: th,
    ttsTextTransforms,
    useTtsAlignedTranscript,
    maxToolSteps,
    userAwayTimeout,
    minConsecutiveSpeechDelay,
    maxUnrecoverableErrors,
    closeTimeout,
  });
}
