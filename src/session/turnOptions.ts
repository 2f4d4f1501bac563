import { DEFAULT_BACKCHANNEL_PHRASES, type BackchannelPhrases } from '../../machines/backchannel.ts';
import type { InterruptionRule } from '../../machines/interruptionRules.ts';

/** Interruption rule of one agent state; what it leaves out comes from the top-level `interruption` values. */
export type InterruptionStateRule = Partial<InterruptionRule>;

export interface BackchannelOptions {
  /** Default on, with an English list ("mhm", "uh-huh", "yeah", "okay", "right", "i see", ...). */
  enabled?: boolean;
  /** Replaces the default list: one list for every language, or lists by language (primary subtag, `*` for all). */
  phrases?: string[] | Record<string, string[]>;
}

export interface PreemptiveGenerationOptions {
  enabled?: boolean;
  /** Also synthesise the speculative reply's audio before the turn commits (it still plays only after). */
  preemptiveTts?: boolean;
  /** ms; no speculation for user speech longer than this (default 10000). */
  maxSpeechDuration?: number;
}

export interface UserTurnLimitOptions {
  /** More words than this in one ongoing user turn runs `Agent.onUserTurnExceeded`. */
  maxWords?: number;
  /** ms from the turn's first speech after which `Agent.onUserTurnExceeded` runs. */
  maxDuration?: number;
}

/** The turn-handling values resolved from these options (flat, as the rest of ResolvedSessionOptions). */
export interface ResolvedTurnExtras {
  endpointingMode: 'fixed' | 'dynamic';
  endpointingAlpha: number;
  speakingInterruption: InterruptionStateRule;
  thinkingInterruption: InterruptionStateRule;
  /** null: the backchannel filter is off. */
  backchannelPhrases: BackchannelPhrases | null;
  /** ms; 0: no warm-up. */
  aecWarmupDuration: number;
  preemptiveTts: boolean;
  preemptiveMaxSpeechDuration: number;
  userTurnLimit: { maxWords: number | null; maxDuration: number | null };
}

const ms = (name: string, v: number | undefined | null, dflt: number): number => {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new RangeError(`${name} must be a non-negative number of ms, got ${v}`);
  return x;
};

const optionalCount = (name: string, v: number | undefined): number | null => {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  return v;
};

function stateRule(name: string, r: InterruptionStateRule | undefined): InterruptionStateRule {
  if (r === undefined) return {};
  if (typeof r !== 'object' || r === null) throw new TypeError(`interruption.${name} must be an object, got ${String(r)}`);
  const out: InterruptionStateRule = {};
  if (r.minDuration !== undefined) out.minDuration = ms(`interruption.${name}.minDuration`, r.minDuration, 0);
  if (r.minWords !== undefined) out.minWords = ms(`interruption.${name}.minWords`, r.minWords, 0);
  if (r.enabled !== undefined) out.enabled = !!r.enabled;
  return out;
}

function backchannel(o: BackchannelOptions | undefined): BackchannelPhrases | null {
  if (o?.enabled === false) return null;
  const p = o?.phrases;
  if (p === undefined) return DEFAULT_BACKCHANNEL_PHRASES;
  const lists = Array.isArray(p) ? { '*': p } : p;
  if (typeof lists !== 'object' || lists === null || !Object.values(lists).every((l) => Array.isArray(l) && l.every((w) => typeof w === 'string'))) {
    throw new TypeError('interruption.backchannel.phrases must be a list of strings or lists of strings by language');
  }
  return lists;
}

/** Input of the extras (the fields TurnHandlingOptions adds for them). */
export interface TurnExtrasInput {
  endpointing?: { mode?: 'fixed' | 'dynamic'; alpha?: number };
  interruption?: { speaking?: InterruptionStateRule; thinking?: InterruptionStateRule; backchannel?: BackchannelOptions };
  aecWarmupDuration?: number | null;
  preemptiveGeneration?: boolean | PreemptiveGenerationOptions;
  userTurnLimit?: UserTurnLimitOptions;
}

export function resolveTurnExtras(th: TurnExtrasInput): ResolvedTurnExtras & { preemptiveEnabled: boolean } {
  const mode = th.endpointing?.mode ?? 'fixed';
  if (mode !== 'fixed' && mode !== 'dynamic') throw new RangeError(`endpointing.mode must be 'fixed' or 'dynamic', got ${String(mode)}`);
  const alpha = th.endpointing?.alpha ?? 0.9;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha < 1)) throw new RangeError(`endpointing.alpha must be in [0, 1), got ${alpha}`);
  const pg = th.preemptiveGeneration;
  const pgo: PreemptiveGenerationOptions = typeof pg === 'object' && pg !== null ? pg : { enabled: pg ?? false };
  return {
    endpointingMode: mode,
    endpointingAlpha: alpha,
    speakingInterruption: stateRule('speaking', th.interruption?.speaking),
    thinkingInterruption: stateRule('thinking', th.interruption?.thinking),
    backchannelPhrases: backchannel(th.interruption?.backchannel),
    aecWarmupDuration: th.aecWarmupDuration === null ? 0 : ms('aecWarmupDuration', th.aecWarmupDuration, 3000),
    preemptiveEnabled: pgo.enabled ?? true,
    preemptiveTts: pgo.preemptiveTts ?? false,
    preemptiveMaxSpeechDuration: ms('preemptiveGeneration.maxSpeechDuration', pgo.maxSpeechDuration, 10_000),
    userTurnLimit: {
      maxWords: optionalCount('userTurnLimit.maxWords', th.userTurnLimit?.maxWords),
      maxDuration: optionalCount('userTurnLimit.maxDuration', th.userTurnLimit?.maxDuration),
    },
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over`'s keys win, nested objects key by key (an agent's `interruption.minWords` keeps the session's minDuration). */
export function mergeTurnHandling<T extends object>(base: T | undefined, over: T | undefined): T {
  if (!over) return { ...(base ?? {}) } as T;
  const out: Record<string, unknown> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    // A detector object (turnDetection) is a value, not options to merge.
    out[k] = isPlainObject(v) && isPlainObject(out[k]) && k !== 'turnDetection' ? mergeTurnHandling(out[k] as object, v) : v;
  }
  return out as T;
}
