/**
 * The endpointing delays, and dynamic endpointing's statistic: an exponential moving average of the pauses this user takes inside a turn, kept
 * in the user-turn machine's context (plain data). A pause is (a) the silence between two VAD speech segments of one
 * turn, or (b) the silence before the user resumed right after a commit (within `minDelay` of it: the turn was cut
 * in a pause, not ended). Silences after which the agent had time to answer are turn-taking, not pauses: not learnt.
 */
export interface EndpointingStats {
  /** ms: the end-of-turn delay bounds (`UPDATE_ENDPOINTING` changes them). */
  minDelay: number;
  maxDelay: number;
  mode: 'fixed' | 'dynamic';
  /** Weight of the past in the average (0.9: each new pause moves it by a tenth of the difference). */
  alpha: number;
  /** ms; null until a first pause is seen. */
  pauseEma: number | null;
  /** The last accepted turn: when its speech ended and when it was committed. */
  lastTurn: { endedAt: number; committedAt: number } | null;
}

interface StatsFacts {
  endpointing: EndpointingStats;
  speaking: boolean;
  lastSpeakingAt: number | null;
}

/** The pause that ends when the user starts speaking at `at`, if this start ends a pause. */
function pauseEndingAt(c: StatsFacts, at: number): number | null {
  if (c.speaking) return null;
  if (c.lastSpeakingAt !== null) return at - c.lastSpeakingAt;
  const last = c.endpointing.lastTurn;
  if (last && at - last.committedAt <= c.endpointing.minDelay) return at - last.endedAt;
  return null;
}

/** The statistic after the user starts speaking at `at`. */
export function learnPause(c: StatsFacts, at: number): EndpointingStats {
  const pause = pauseEndingAt(c, at);
  const s = c.endpointing;
  if (pause === null || !(pause > 0)) return s;
  return { ...s, lastTurn: null, pauseEma: s.pauseEma === null ? pause : s.alpha * s.pauseEma + (1 - s.alpha) * pause };
}

/** The minimum end-of-turn delay: fixed `minDelay`, or (dynamic) the learnt pause bounded by minDelay..maxDelay. */
export function dynamicMinDelay(c: StatsFacts): number {
  const { pauseEma: ema, minDelay, maxDelay } = c.endpointing;
  if (c.endpointing.mode !== 'dynamic' || ema === null) return minDelay;
  return Math.min(maxDelay, Math.max(minDelay, ema));
}
