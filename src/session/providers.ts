import type { STT, VAD } from '../providers/types.ts';
import { STTStreamAdapter } from '../stt/streamAdapter.ts';

/** A non-streaming recognizer becomes streaming through the VAD: one recognition per detected utterance. */
export function toStreamingSTT(stt: STT, vad: VAD | null): STT {
  if (stt.capabilities.streaming) return stt;
  if (!vad) throw new Error(`${stt.label} is not a streaming STT: it needs a VAD to segment the audio (pass \`vad\`)`);
  return new STTStreamAdapter(stt, vad);
}
