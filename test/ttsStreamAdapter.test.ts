import { Observable, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import type { SynthesizedAudio, TTS } from '../src/providers/types.ts';
import { streamingTTS, TTSStreamAdapter } from '../src/tts/streamAdapter.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

/** Takes 10 ms per character to answer, then returns 3 frames per sentence; records live subscriptions. */
class SlowTTS implements TTS {
  readonly label = 'slow';
  readonly sampleRate = 16000;
  readonly numChannels = 1;
  readonly capabilities = { streaming: false, alignedTranscript: false };
  live = 0;
  requests: Array<{ text: string; at: number }> = [];
  synthesize(text: string): Observable<SynthesizedAudio> {
    return new Observable((sub) => {
      this.live++;
      this.requests.push({ text, at: Date.now() });
      const t = setTimeout(() => {
        for (let i = 0; i < 3; i++) sub.next({ frame: new AudioFrame(new Int16Array(320), 16000, 1, 320), requestId: text });
        sub.complete();
      }, text.length * 10);
      return () => {
        this.live--;
        clearTimeout(t);
      };
    });
  }
}

describe('TTSStreamAdapter', () => {
  it('first audio comes after the first sentence, not the whole reply; order is kept', async () => {
    const tts = new SlowTTS();
    const text$ = new Subject<string>();
    const got: Array<{ id?: string; final?: boolean; seg?: string; at: number }> = [];
    let done = false;
    new TTSStreamAdapter(tts).stream(text$).subscribe({
      next: (a) => got.push({ id: a.requestId, final: a.final, seg: a.segmentId, at: Date.now() }),
      complete: () => (done = true),
    });
    text$.next('This is the first sentence. ');
    await vi.advanceTimersByTimeAsync(50);
    text$.next('And a much longer second sentence follows here. Short end.');
    await vi.advanceTimersByTimeAsync(10);
    text$.complete();
    await vi.advanceTimersByTimeAsync(2000);
    expect(done).toBe(true);
    expect(tts.requests.map((r) => r.text)).toEqual(['This is the first sentence.', 'And a much longer second sentence follows here.', 'Short end.']);
    // The first sentence is certain once the next one begins (at 50 ms), long before the text is complete.
    expect(tts.requests[0]!.at).toBe(50);
    expect(got[0]!.at).toBe(50 + 'This is the first sentence.'.length * 10);
    expect(got.map((g) => g.id)).toEqual(tts.requests.flatMap((r) => [r.text, r.text, r.text]));
    expect(got.map((g) => g.final)).toEqual([false, false, true, false, false, true, false, false, true]);
    expect(new Set(got.map((g) => g.seg)).size).toBe(3);
  });

  it('unsubscribing cancels pending syntheses', async () => {
    const tts = new SlowTTS();
    const text$ = new Subject<string>();
    const s = new TTSStreamAdapter(tts).stream(text$).subscribe();
    text$.next('The first sentence is here. The second sentence is here. The third sentence is here. And more');
    expect(tts.live).toBe(2); // lookahead 2
    s.unsubscribe();
    expect(tts.live).toBe(0);
  });

  it('errors of the inner TTS end the stream with that error', async () => {
    const failing: TTS = { ...new SlowTTS(), synthesize: () => new Observable((sub) => sub.error(new Error('tts down'))) } as TTS;
    let err: unknown;
    new TTSStreamAdapter(failing).stream(new Observable<string>((sub) => (sub.next('Hello there.'), sub.complete()))).subscribe({ error: (e) => (err = e) });
    expect((err as Error).message).toBe('tts down');
  });

  it('streamingTTS returns streaming providers untouched', () => {
    const s: TTS = Object.assign(new SlowTTS(), { stream: () => new Observable<SynthesizedAudio>() });
    expect(streamingTTS(s)).toBe(s);
    expect(streamingTTS(new SlowTTS())).toBeInstanceOf(TTSStreamAdapter);
  });
});

describe('first audio is never held back', () => {
  it('the adapter and markFinal pass the first frame through at once, and still mark the last one final', async () => {
    const { markFinal } = await import('../src/tts/markFinal.ts');
    const frame = () => ({ frame: new AudioFrame(new Int16Array(320), 16000, 1, 320) });
    const dribbling: TTS = {
      label: 'dribble',
      sampleRate: 16000,
      numChannels: 1,
      capabilities: { streaming: false, alignedTranscript: false },
      synthesize: () =>
        new Observable<SynthesizedAudio>((sub) => {
          sub.next(frame()); // at once
          const t1 = setTimeout(() => sub.next(frame()), 100);
          const t2 = setTimeout(() => (sub.next(frame()), sub.complete()), 200);
          return () => (clearTimeout(t1), clearTimeout(t2));
        }),
    };
    const seen: Array<{ at: number; final?: boolean }> = [];
    new TTSStreamAdapter(dribbling).stream(new Observable<string>((s) => (s.next('One sentence.'), s.complete()))).subscribe((a) => seen.push({ at: Date.now(), final: a.final }));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.map((s) => s.at)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(300);
    expect(seen).toEqual([{ at: 0, final: false }, { at: 200, final: false }, { at: 200, final: true }]);
    const direct: Array<boolean | undefined> = [];
    dribbling.synthesize('x').pipe(markFinal()).subscribe((a) => direct.push(a.final));
    expect(direct).toEqual([undefined]);
    await vi.advanceTimersByTimeAsync(300);
    expect(direct).toEqual([undefined, undefined, true]);
  });
});
