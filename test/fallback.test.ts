import { lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { ChatContext } from '../src/llm/chatContext.ts';
import { APIError } from '../src/providers/errors.ts';
import { FallbackLLM, FallbackSTT, FallbackTTS, type AvailabilityChange } from '../src/providers/fallback.ts';
import type { ChatChunk, LLM, SpeechEvent, STT, SynthesizedAudio, TTS } from '../src/providers/types.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

/** An LLM whose behaviour per call comes from a list: 'ok', 'fail' (before output) or 'partial' (fails after a chunk). */
function scriptedLLM(label: string, plan: Array<'ok' | 'fail' | 'partial'>): LLM & { calls: number } {
  const llm = {
    label,
    model: label,
    calls: 0,
    chat: () =>
      new Observable<ChatChunk>((sub) => {
        const mode = plan[llm.calls++] ?? 'ok';
        if (mode === 'fail') return sub.error(new APIError(`${label} down`));
        sub.next({ id: label, delta: { content: `${label} says hi` } });
        if (mode === 'partial') return sub.error(new APIError(`${label} dropped`));
        sub.complete();
      }),
  };
  return llm;
}
const req = { chatCtx: ChatContext.empty(), tools: [] };
const answer = async (llm: LLM) => (await lastValueFrom(llm.chat(req).pipe(toArray()))).map((c) => c.delta?.content).join('');

describe('FallbackLLM', () => {
  it('switches to the next provider when one fails, reports it, and comes back once a background probe succeeds', async () => {
    const a = scriptedLLM('a', ['fail', 'ok']);
    const b = scriptedLLM('b', []);
    const fb = new FallbackLLM([a, b], { recoveryInterval: 5000 });
    const changes: AvailabilityChange[] = [];
    fb.availability$.subscribe((c) => changes.push(c));
    const errors: string[] = [];
    expect(await lastValueFrom(fb.chat({ ...req, onError: (e, r) => errors.push(`${r} ${e.message}`) }).pipe(toArray())).then((cs) => cs[0]!.delta?.content)).toBe('b says hi');
    expect(errors).toEqual(['true a failed, switching to the next provider: a down']);
    expect(await answer(fb)).toBe('b says hi'); // a is not retried yet
    expect(a.calls).toBe(1);
    vi.advanceTimersByTime(5000);
    // The user is still answered by b while a is probed with the same request in the background.
    expect(await answer(fb)).toBe('b says hi');
    expect(a.calls).toBe(2);
    expect(changes.map((c) => [c.label, c.available])).toEqual([['a', false], ['a', true]]);
    expect(await answer(fb)).toBe('a says hi'); // recovered
    expect(b.calls).toBe(3);
  });

  it('a failed probe stays silent and waits another interval; a probe is cancelled at its first output', async () => {
    let aMode: 'fail' | 'hang' = 'fail';
    let aCalls = 0;
    let aCancelled = 0;
    const a: LLM = {
      label: 'a',
      model: 'a',
      chat: (r) =>
        new Observable<ChatChunk>((sub) => {
          aCalls++;
          r.onError?.(new APIError('a retrying'), true); // a provider's own retry report
          if (aMode === 'fail') sub.error(new APIError('a down'));
          else sub.next({ id: 'a', delta: { content: 'a streaming' } }); // never completes on its own
          return () => aCancelled++;
        }),
    };
    const b = scriptedLLM('b', []);
    const fb = new FallbackLLM([a, b], { recoveryInterval: 1000 });
    const errors: string[] = [];
    const ask = () => lastValueFrom(fb.chat({ ...req, onError: (e) => errors.push(e.message) }).pipe(toArray()));
    await ask(); // a fails, b answers
    expect(errors).toEqual(['a retrying', 'a failed, switching to the next provider: a down']);
    vi.advanceTimersByTime(1000);
    await ask(); // probe fails
    expect(aCalls).toBe(2);
    expect(errors).toHaveLength(2); // the probe's reports do not reach the session
    vi.advanceTimersByTime(500);
    await ask(); // not due yet: the failed probe restarted the interval
    expect(aCalls).toBe(2);
    aMode = 'hang';
    vi.advanceTimersByTime(500);
    await ask(); // probe answers with a first chunk: a is back, and the probe request is cancelled
    expect(aCalls).toBe(3);
    expect(aCancelled).toBe(3);
    const got: string[] = [];
    fb.chat(req).subscribe((c) => got.push(c.delta?.content ?? '')).unsubscribe();
    expect(got).toEqual(['a streaming']); // a serves the user again
    expect(b.calls).toBe(4);
  });

  it('calls each provider with the adapter connection options: a short attempt timeout, no retries by default', async () => {
    const seen: unknown[] = [];
    const spy: LLM = { label: 'spy', model: 'spy', chat: (r) => (seen.push(r.connOptions), scriptedLLM('x', []).chat(r)) };
    await answer(new FallbackLLM([spy]));
    await answer(new FallbackLLM([spy], { attemptTimeout: 1500, maxRetryPerProvider: 1, retryInterval: 100 }));
    expect(seen).toEqual([
      { timeout: 5000, maxRetry: 0, retryInterval: 500 },
      { timeout: 1500, maxRetry: 1, retryInterval: 100 },
    ]);
    const tts: TTS & { conn?: unknown } = {
      label: 't', sampleRate: 24000, numChannels: 1, capabilities: { streaming: false, alignedTranscript: false },
      synthesize: (_t, o) => ((tts.conn = o?.connOptions), new Observable<SynthesizedAudio>((s) => s.complete())),
    };
    await lastValueFrom(new FallbackTTS([tts]).synthesize('x').pipe(toArray()));
    expect(tts.conn).toEqual({ timeout: 10_000, maxRetry: 0, retryInterval: 500 });
  });

  it('does not hide a failure after partial output, and fails when every provider fails', async () => {
    const fb = new FallbackLLM([scriptedLLM('a', ['partial']), scriptedLLM('b', [])]);
    await expect(answer(fb)).rejects.toThrow('a dropped');
    const none = new FallbackLLM([scriptedLLM('a', ['fail']), scriptedLLM('b', ['fail'])]);
    await expect(answer(none)).rejects.toThrow('b down');
    expect(() => new FallbackLLM([])).toThrow(/at least one provider/);
  });
});

describe('FallbackSTT and FallbackTTS', () => {
  it('a streaming STT that breaks mid-stream hands over to the next one', async () => {
    const broken: STT = {
      label: 'broken',
      capabilities: { streaming: true, interimResults: true },
      stream: () => new Observable<SpeechEvent>((sub) => (sub.next({ type: 'interim_transcript', alternatives: [{ text: 'he' }] }), sub.error(new Error('socket closed')))),
    };
    const good: STT = {
      label: 'good',
      capabilities: { streaming: true, interimResults: true },
      stream: () => new Observable<SpeechEvent>((sub) => (sub.next({ type: 'final_transcript', alternatives: [{ text: 'hello' }] }), sub.complete())),
    };
    const out = await lastValueFrom(new FallbackSTT([broken, good]).stream(new Observable()).pipe(toArray()));
    expect(out.map((e) => e.alternatives?.[0]?.text)).toEqual(['he', 'hello']);
  });

  it('a streaming STT that failed is probed on the live audio and takes over again at an utterance boundary', () => {
    const ev = (type: SpeechEvent['type'], text: string): SpeechEvent => ({ type, alternatives: [{ text }] });
    const aStreams: Subject<SpeechEvent>[] = [];
    let bTornDown = 0;
    const b$ = new Subject<SpeechEvent>();
    const a: STT = {
      label: 'a',
      capabilities: { streaming: true, interimResults: true },
      stream: () => {
        const s = new Subject<SpeechEvent>();
        aStreams.push(s);
        return s;
      },
    };
    const b: STT = {
      label: 'b',
      capabilities: { streaming: true, interimResults: true },
      stream: () => new Observable<SpeechEvent>((sub) => (b$.subscribe(sub), () => bTornDown++)),
    };
    const fb = new FallbackSTT([a, b], { recoveryInterval: 1000 });
    const changes: string[] = [];
    fb.availability$.subscribe((c) => changes.push(`${c.label}:${c.available}`));
    const out: string[] = [];
    const errors: string[] = [];
    const sub = fb.stream(new Subject<AudioFrame>(), { onError: (e) => errors.push(e.message) }).subscribe((e) => out.push(`${e.type}:${e.alternatives![0]!.text}`));
    aStreams[0]!.next(ev('interim_transcript', 'he'));
    aStreams[0]!.error(new Error('socket closed'));
    expect(errors).toEqual(['a failed, switching to the next provider: socket closed']);
    b$.next(ev('final_transcript', 'hello'));
    vi.advanceTimersByTime(999);
    expect(aStreams).toHaveLength(1);
    vi.advanceTimersByTime(1); // a is due: probed with a second stream on the same audio
    expect(aStreams).toHaveLength(2);
    aStreams[1]!.next(ev('interim_transcript', 'wor')); // dropped: b still serves
    aStreams[1]!.next(ev('final_transcript', 'world')); // the probe works: a is available again...
    expect(changes).toEqual(['a:false', 'a:true']);
    b$.next(ev('interim_transcript', 'wor')); // ...but b finishes the utterance it is in
    b$.next(ev('final_transcript', 'world'));
    expect(bTornDown).toBe(1); // handed over at the boundary
    aStreams[1]!.next(ev('final_transcript', 'next one'));
    expect(out).toEqual(['interim_transcript:he', 'final_transcript:hello', 'interim_transcript:wor', 'final_transcript:world', 'final_transcript:next one']);
    sub.unsubscribe();
    expect(aStreams[1]!.observed).toBe(false);
  });

  it('a failing streaming probe stays silent and is tried again an interval later', () => {
    let aCalls = 0;
    const a: STT = {
      label: 'a',
      capabilities: { streaming: true, interimResults: true },
      stream: () => new Observable<SpeechEvent>((sub) => void (aCalls++, sub.error(new Error('still down')))),
    };
    const b: STT = { label: 'b', capabilities: { streaming: true, interimResults: true }, stream: () => new Observable<SpeechEvent>(() => {}) };
    const errors: string[] = [];
    const sub = new FallbackSTT([a, b], { recoveryInterval: 1000 }).stream(new Subject<AudioFrame>(), { onError: (e) => errors.push(e.message) }).subscribe();
    expect(aCalls).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(aCalls).toBe(2);
    vi.advanceTimersByTime(999);
    expect(aCalls).toBe(2);
    vi.advanceTimersByTime(1);
    expect(aCalls).toBe(3);
    expect(errors).toHaveLength(1); // only the first failure, of the stream in use, is reported
    sub.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('TTS audio from a backup with another sample rate is resampled to the primary rate', async () => {
    vi.useRealTimers();
    const tone = (rate: number): SynthesizedAudio[] => [{ frame: new AudioFrame(new Int16Array(rate / 10), rate, 1, rate / 10), requestId: 'r' }];
    const down: TTS = { label: 'down', sampleRate: 24000, numChannels: 1, capabilities: { streaming: false, alignedTranscript: false }, synthesize: () => new Observable((s) => s.error(new Error('503'))) };
    const other: TTS = { label: 'other', sampleRate: 16000, numChannels: 1, capabilities: { streaming: false, alignedTranscript: false }, synthesize: () => new Observable((s) => (tone(16000).forEach((a) => s.next(a)), s.complete())) };
    const fb = new FallbackTTS([down, other]);
    expect(fb.sampleRate).toBe(24000);
    const out = await lastValueFrom(fb.synthesize('hi').pipe(toArray()));
    expect(out.every((a) => a.frame.sampleRate === 24000)).toBe(true);
    expect(Math.abs(out.reduce((n, a) => n + a.frame.samplesPerChannel, 0) - 2400)).toBeLessThanOrEqual(2);
  });
});
