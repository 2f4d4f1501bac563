import { Observable } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';

/** Real-time paced silence (one frame every `frameMs`), e.g. as the input of a session driven by fake VAD/STT. */
export function silentAudio(opts: { sampleRate?: number; frameMs?: number } = {}): Observable<AudioFrame> {
  const rate = opts.sampleRate ?? 16000;
  const frameMs = opts.frameMs ?? 20;
  const n = Math.round((rate * frameMs) / 1000);
  return new Observable<AudioFrame>((sub) => {
    const data = new Int16Array(n);
    const id = setInterval(() => sub.next(new AudioFrame(data, rate, 1, n)), frameMs);
    return () => clearInterval(id);
  });
}
