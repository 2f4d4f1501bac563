import { Observable, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { APIError } from '../src/providers/errors.ts';
import type { SpeechEvent, STT, STTStreamOptions, VAD, VADEvent } from '../src/providers/types.ts';
import { STTStreamAdapter } from '../src/stt/streamAdapter.ts';

const frame = (n: number) => new AudioFrame(new Int16Array(n), 16000, 1, n);
const vadEv = (type: VADEvent['type'], frames?: AudioFrame[]): VADEvent => ({
  type, timestamp: 0, speechDuration: 0, silenceDuration: 0, inferenceDuration: 0, speaking: type !== 'end_of_speech', probability: 1, frames,
});

/**
 * Recognizes an utterance as "<n> samples" after a delay that shrinks as the utterance grows (so a later, longer
 * utterance is answered first). `fail(n)` makes that utterance fail, after one reported retry like a real plugin.
 */
function recognizer(fail?: (n: number) => boolean) {
  const calls: number[] = [];
  let aborted = 0;
  const stt: STT = {
    label: 'batch-stt',
    capabilities: { streaming: false, interimResults: false },
    stream: () => new Observable<SpeechEvent>(),
    recognize: (frames: AudioFrame[], opts?: STTStreamOptions & { signal?: AbortSignal }) => {
      const n = frames.reduce((a, f) => a + f.samplesPerChannel, 0);
      calls.push(n);
      return new Promise<SpeechEvent>((resolve, reject) => {
        const t = setTimeout(() => {
          if (!fail?.(n)) return resolve({ type: 'final_transcript', alternatives: [{ text: `${n} samples` }] });
          opts?.onError?.(new APIError(`503 for ${n}`), true);
          reject(new APIError(`cannot recognize ${n}`, { retryable: false }));
        }, Math.max(1, 50 - n / 100));
        opts?.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          aborted++;
        });
      });
    },
  };
  return { stt, calls, aborted: () => aborted };
}

function run(stt: STT, onError?: STTStreamOptions['onError']) {
  const vadEvents = new Subject<VADEvent>();
  const vad: VAD = { label: 'vad', stream: () => vadEvents.asObservable() };
  const out: string[] = [];
  const end = { completed: false, error: null as Error | null };
  const sub = new STTStreamAdapter(stt, vad).stream(new Observable(), { onError }).subscribe({
    next: (e) => out.push(e.type === 'final_transcript' ? e.alternatives![0]!.text : e.type),
    complete: () => (end.completed = true),
    error: (e) => (end.error = e),
  });
  return { vadEvents, out, end, sub };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('STTStreamAdapter', () => {
  it('recognizes each VAD utterance concurrently and keeps utterance order when answers race', async () => {
    const r = recognizer();
    const { vadEvents, out, end } = run(r.stt);
    vadEvents.next(vadEv('start_of_speech'));
    vadEvents.next(vadEv('end_of_speech', [frame(1600)])); // answered after 34 ms
    vadEvents.next(vadEv('start_of_speech'));
    vadEvents.next(vadEv('end_of_speech', [frame(2000), frame(2000)])); // answered after 10 ms
    expect(r.calls).toEqual([1600, 4000]); // both requests are in flight at once
    await vi.advanceTimersByTimeAsync(20);
    // The fast answer waits for the earlier utterance; so does the next start, to keep one consistent timeline.
    expect(out).toEqual(['start_of_speech']);
    await vi.advanceTimersByTimeAsync(20);
    expect(out).toEqual(['start_of_speech', '1600 samples', 'end_of_speech', 'start_of_speech', '4000 samples', 'end_of_speech']);
    expect(end.completed).toBe(false);
  });

  it('completes when the VAD stream ends, only after the pending utterance is recognized', async () => {
    const { vadEvents, out, end } = run(recognizer().stt);
    vadEvents.next(vadEv('end_of_speech', [frame(320)]));
    vadEvents.complete();
    await vi.advanceTimersByTimeAsync(10);
    expect(end.completed).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(out).toEqual(['320 samples', 'end_of_speech']);
    expect(end.completed).toBe(true);
  });

  it('an utterance without audio is not sent to the recognizer', async () => {
    const r = recognizer();
    const { vadEvents, out } = run(r.stt);
    vadEvents.next(vadEv('start_of_speech'));
    vadEvents.next(vadEv('end_of_speech', []));
    vadEvents.next(vadEv('end_of_speech'));
    await vi.advanceTimersByTimeAsync(1);
    expect(out).toEqual(['start_of_speech', 'end_of_speech', 'end_of_speech']);
    expect(r.calls).toEqual([]);
  });

  it('retries are reported as recoverable; an utterance that still fails ends the stream after the ones before it', async () => {
    const r = recognizer((n) => n === 640);
    const errors: Array<[string, boolean]> = [];
    const { vadEvents, out, end } = run(r.stt, (e, recoverable) => errors.push([e.message, recoverable]));
    vadEvents.next(vadEv('end_of_speech', [frame(320)]));
    vadEvents.next(vadEv('end_of_speech', [frame(640)]));
    vadEvents.next(vadEv('end_of_speech', [frame(4500)])); // still pending (or answered) when the stream fails
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual([['503 for 640', true]]);
    expect(out).toEqual(['320 samples', 'end_of_speech']); // nothing after the failed utterance
    expect(end.error?.message).toBe('cannot recognize 640');
    expect(end.completed).toBe(false);
  });

  it('unsubscribing aborts the requests in flight and emits nothing more', async () => {
    const r = recognizer();
    const { vadEvents, out, sub } = run(r.stt);
    vadEvents.next(vadEv('end_of_speech', [frame(100)]));
    vadEvents.next(vadEv('end_of_speech', [frame(200)]));
    sub.unsubscribe();
    expect(r.aborted()).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(out).toEqual([]);
    expect(vadEvents.observed).toBe(false); // the VAD stream was released too
  });

  it('a VAD failure ends the stream after the transcripts already pending', async () => {
    const { vadEvents, out, end } = run(recognizer().stt);
    vadEvents.next(vadEv('end_of_speech', [frame(320)]));
    vadEvents.error(new Error('VAD model crashed'));
    await vi.advanceTimersByTimeAsync(100);
    expect(out).toEqual(['320 samples', 'end_of_speech']);
    expect(end.error?.message).toBe('VAD model crashed');
  });

  it('refuses an STT that cannot recognize', () => {
    const { recognize: _r, ...noRecognize } = recognizer().stt;
    expect(() => new STTStreamAdapter(noRecognize as STT, { label: 'v', stream: () => new Observable() })).toThrow(/no recognize/);
  });
});
