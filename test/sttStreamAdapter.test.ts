import { Observable, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import type { SpeechEvent, STT, VADEvent } from '../src/providers/types.ts';
import { STTStreamAdapter } from '../src/stt/streamAdapter.ts';

const frame = (n: number) => new AudioFrame(new Int16Array(n), 16000, 1, n);
const vadEv = (type: VADEvent['type'], frames?: AudioFrame[]): VADEvent => ({
  type, timestamp: 0, speechDuration: 0, silenceDuration: 0, inferenceDuration: 0, speaking: type !== 'end_of_speech', probability: 1, frames,
});

/** Recognizes an utterance as "<n samples>", after a delay that shrinks with the utterance, so answers can race. */
function recognizer(fail?: (n: number) => boolean): STT & { aborted: number } {
  const r = {
    label: 'batch-stt',
    capabilities: { streaming: false, interimResults: false },
    aborted: 0,
    stream: () => new Observable<SpeechEvent>(),
    recognize: (frames: AudioFrame[], opts?: { signal?: AbortSignal }) => {
      const n = frames.reduce((a, f) => a + f.samplesPerChannel, 0);
      return new Promise<SpeechEvent>((resolve, reject) => {
        const t = setTimeout(() => (fail?.(n) ? reject(new Error(`cannot recognize ${n}`)) : resolve({ type: 'final_transcript', alternatives: [{ text: `${n} samples` }] })), Math.max(1, 50 - n / 100));
        opts?.signal?.addEventListener('abort', () => (clearTimeout(t), r.aborted++));
      });
    },
  };
  return r;
}

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('STTStreamAdapter', () => {
  it('recognizes each VAD utterance and keeps utterance order even when answers race', async () => {
    const vadEvents = new Subject<VADEvent>();
    const vad = { label: 'vad', stream: () => vadEvents.asObservable() };
    const out: SpeechEvent[] = [];
    const sub = new STTStreamAdapter(recognizer(), vad).stream(new Observable()).subscribe((e) => out.push(e));
    vadEvents.next(vadEv('start_of_speech'));
    vadEvents.next(vadEv('end_of_speech', [frame(1600)])); // slow answer (34 ms)
    vadEvents.next(vadEv('start_of_speech'));
    vadEvents.next(vadEv('end_of_speech', [frame(4000)])); // fast answer (10 ms)
    await vi.advanceTimersByTimeAsync(120);
    expect(out.map((e) => (e.type === 'final_transcript' ? e.alternatives![0]!.text : e.type))).toEqual([
      'start_of_speech', 'start_of_speech', '1600 samples', 'end_of_speech', '4000 samples', 'end_of_speech',
    ]);
    sub.unsubscribe();
  });

  it('reports a failed utterance as a recoverable error and goes on; unsubscribing aborts pending requests', async () => {
    const vadEvents = new Subject<VADEvent>();
    const stt = recognizer((n) => n === 320);
    const errors: string[] = [];
    const out: string[] = [];
    const sub = new STTStreamAdapter(stt, { label: 'vad', stream: () => vadEvents.asObservable() })
      .stream(new Observable(), { onError: (e, recoverable) => errors.push(`${e.message} ${recoverable}`) })
      .subscribe((e) => e.type === 'final_transcript' && out.push(e.alternatives![0]!.text));
    vadEvents.next(vadEv('end_of_speech', [frame(320)]));
    vadEvents.next(vadEv('end_of_speech', [frame(640)]));
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual(['cannot recognize 320 true']);
    expect(out).toEqual(['640 samples']);
    vadEvents.next(vadEv('end_of_speech', [frame(100)]));
    sub.unsubscribe();
    expect(stt.aborted).toBe(1);
  });

  it('refuses an STT that cannot recognize', () => {
    const { recognize: _r, ...noRecognize } = recognizer();
    expect(() => new STTStreamAdapter(noRecognize as STT, { label: 'v', stream: () => new Observable() })).toThrow(/no recognize/);
  });
});
