/**
 * The two kinds of end-of-turn model a session accepts as `turnHandling.turnDetection`. Both are TurnDetectors:
 * the user-turn machine asks them when a pause begins and holds the turn open while the end looks unlikely.
 */
import type { TurnDetector } from '../../machines/userTurn.ts';
import type { ChatContext } from '../llm/chatContext.ts';

export type { TurnDetector, TurnDetectorContext } from '../../machines/userTurn.ts';

/** A transcript-based model (e.g. a small language model): judges the words said, with the conversation so far. */
export interface TextTurnDetector extends TurnDetector {
  readonly input?: 'text' | undefined;
  /** `chatCtx` is the agent's context before this turn; `transcript` is what the user said in it so far. */
  predictEndOfTurn(transcript: string, context: { chatCtx: ChatContext }): Promise<number>;
}

/** An audio-based model (e.g. Smart Turn): judges how the user sounded, from their recent audio at 16 kHz. */
export interface AudioTurnDetector extends TurnDetector {
  readonly input: 'audio';
  /** `audio` is the user's latest audio (up to several seconds), mono 16 kHz, −1..1, newest sample last. */
  predictEndOfTurn(transcript: string, context: { audio: Float32Array; chatCtx: ChatContext }): Promise<number>;
}

/** A detector option that cannot work is one clear error when the session is created. */
export function validateTurnDetector<T extends TurnDetector>(d: T): T {
  const name = `turnDetection ${JSON.stringify(d.label ?? '?')}`;
  if (typeof d.predictEndOfTurn !== 'function') throw new TypeError(`${name} has no predictEndOfTurn() method`);
  if (typeof d.unlikelyThreshold !== 'number' || !(d.unlikelyThreshold >= 0 && d.unlikelyThreshold <= 1)) {
    throw new RangeError(`${name}: unlikelyThreshold must be a probability in [0, 1], got ${d.unlikelyThreshold}`);
  }
  if (d.input !== undefined && d.input !== 'text' && d.input !== 'audio') throw new RangeError(`${name}: input must be 'text' or 'audio', got ${String(d.input)}`);
  if (d.maxSilence !== undefined && !(typeof d.maxSilence === 'number' && Number.isFinite(d.maxSilence) && d.maxSilence >= 0)) {
    throw new RangeError(`${name}: maxSilence must be a non-negative number of ms, got ${d.maxSilence}`);
  }
  return d;
}
