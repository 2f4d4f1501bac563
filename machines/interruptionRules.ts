import { isBackchannel, type BackchannelPhrases } from './backchannel.ts';

/**
 * The rules by which user audio may interrupt the agent, per agent state: while the agent speaks (its current
 * speech's audio has started, also while that audio is paused for the user) and while it thinks (a reply is being
 * prepared). Pure data and pure functions: the activity machine's guards read them.
 */
export interface InterruptionRule {
  /** ms of VAD speech before audio activity interrupts. */
  minDuration: number;
  /** Words the transcript must hold before an interruption (0: none needed; only with an STT). */
  minWords: number;
  /** false: user audio never interrupts in this state (explicit `interrupt()` still does). */
  enabled: boolean;
}

export interface InterruptionPolicy {
  mode: 'vad' | 'stt' | 'manual';
  /** Defaults of both states. */
  minDuration: number;
  minWords: number;
  hasStt: boolean;
  speaking?: Partial<InterruptionRule>;
  thinking?: Partial<InterruptionRule>;
}

/** What the rules look at of the activity. */
interface RuleFacts {
  current: string | null;
  segmentStarted: boolean;
  /** The rules, and the phrases that never interrupt the agent's speech (null or absent: filter off). */
  interruption: InterruptionPolicy & { backchannel?: BackchannelPhrases | null };
}

/** The agent speaks for the rules once its current speech's audio started (paused or not). */
export const agentSpeaks = (c: RuleFacts): boolean => c.current !== null && c.segmentStarted;

/** The rule of the agent's present state, the top-level values filling what the state's rule leaves out. */
export function ruleFor(c: RuleFacts): InterruptionRule {
  const p = c.interruption;
  const r = (agentSpeaks(c) ? p.speaking : p.thinking) ?? {};
  return { minDuration: r.minDuration ?? p.minDuration, minWords: r.minWords ?? p.minWords, enabled: r.enabled ?? true };
}

/** Events that may carry what the user said so far. */
type WithTranscript = { transcript?: string; language?: string };

/** While the agent speaks, the user said something, and all of it is backchannel ("mhm", "right"). */
export function heardBackchannel(c: RuleFacts, event: unknown): boolean {
  const e = event as WithTranscript;
  const phrases = c.interruption.backchannel;
  return !!phrases && agentSpeaks(c) && !!e.transcript && isBackchannel(e.transcript, phrases, e.language);
}
