/**
 * The runtime side of an end-of-turn model in a session: the `predictEndOfTurn` actor the user-turn machine
 * invokes (it gives the detector the transcript, the agent's chat context and, for audio models, the user's
 * recent audio) and the tap that keeps that audio. The machine decides what an answer means (hold or end) and
 * stops asking after a failure; this side reports the failure once, as a session error event.
 */
import type { Observable } from 'rxjs';
import { fromPromise } from 'xstate';
import type { TurnDetector } from '../../machines/userTurn.ts';
import type { AudioFrame } from '../audio/frame.ts';
import { RecentAudio, recordRecentAudio } from './recentAudio.ts';

export class TurnDetectorError extends Error {
  override name = 'TurnDetectorError';
}

export interface EndOfTurnPredictionOptions {
  /** The agent's chat context now (transcript-based models read the conversation). */
  chatCtx: () => unknown;
  /** Reports a failed prediction (the session emits it as a recoverable error). */
  report: (error: TurnDetectorError, label: string) => void;
}

export function endOfTurnPrediction(detector: TurnDetector | null, o: EndOfTurnPredictionOptions) {
  const recent = detector?.input === 'audio' ? new RecentAudio() : null;
  return {
    /** The input stream as the VAD and STT get it; with an audio model, its latest seconds are kept on the side. */
    listen: (audio: Observable<AudioFrame>): Observable<AudioFrame> => (recent ? recordRecentAudio(audio, recent) : audio),
    /** Provided to the user-turn machine as `predictEndOfTurn`. */
    actor: fromPromise<{ probability: number; at: number }, { transcript: string }>(async ({ input }) => {
      if (!detector) throw new TurnDetectorError('no turn detector is configured');
      try {
        const context = recent ? { chatCtx: o.chatCtx(), audio: recent.snapshot() } : { chatCtx: o.chatCtx() };
        const probability = await detector.predictEndOfTurn(input.transcript, context);
        if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
          throw new RangeError(`predictEndOfTurn() must resolve to a probability in [0, 1], got ${String(probability)}`);
        }
        return { probability, at: Date.now() };
      } catch (e) {
        const cause = e instanceof Error ? e.message : String(e);
        const error = new TurnDetectorError(`turn detector ${detector.label} failed (${cause}); this agent falls back to VAD endpointing`, { cause: e });
        o.report(error, detector.label);
        throw error;
      }
    }),
  };
}
