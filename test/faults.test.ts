/** The fault injectors of the testing kit do what they promise, in virtual time. */
import { interval, lastValueFrom, map, Observable, of, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../src/agent.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import { ChatContext, createMessage } from '../src/llm/chatContext.ts';
import type { RunContext } from '../src/llm/tools.ts';
import {
  BROKEN_JSON_ARGUMENTS,
  FakeAudioOutput,
  FakeLLM,
  FakeSTT,
  FakeTTS,
  FaultPlan,
  FaultyLLM,
  FaultySTT,
  FaultyTTS,
  noiseBurst,
  scriptedTool,
  StallingAudioOutput,
  UserSpeechScript,
  withFault,
} from '../src/testing/index.ts';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

/** Collects a stream's items and its end, advancing virtual time. */
async function collect<T>(o: Observable<T>, ms = 10_000) {
  const items: T[] = [];
  let end: string | null = null;
  const sub = o.subscribe({ next: (v) => items.push(v), error: (e) => (end = `error: ${(e as Error).message}`), complete: () => (end = 'complete') });
  await vi.advanceTimersByTimeAsync(ms);
  sub.unsubscribe();
  return { items, end };
}
const ticks = () => interval(100).pipe(take(5)); // 0..4 at 100..500 ms

describe('withFault', () => {
  it('passes a healthy stream through', async () => {
    expect(await collect(withFault(ticks, null))).toEqual({ items: [0, 1, 2, 3, 4], end: 'complete' });
  });
  it('fails before any output, after a delay', async () => {
    const o = withFault(ticks, { kind: 'error_before', afterMs: 250, message: 'down' });
    expect(await collect(o)).toEqual({ items: [], end: 'error: down' });
  });
  it('fails part-way, after a number of items or a time', async () => {
    expect(await collect(withFault(ticks, { kind: 'error_mid', afterItems: 2 }, 'llm x'))).toEqual({ items: [0, 1], end: 'error: llm x: injected failure after 2 items' });
    expect((await collect(withFault(ticks, { kind: 'error_mid', afterMs: 350 }))).items).toEqual([0, 1, 2]);
  });
  it('completes early', async () => {
    expect(await collect(withFault(ticks, { kind: 'complete_early', afterItems: 3 }))).toEqual({ items: [0, 1, 2], end: 'complete' });
  });
  it('holds items back for a slow start, then releases them in order', async () => {
    const seen: Array<[number, number]> = [];
    const start = Date.now();
    withFault(ticks, { kind: 'delay', ms: 300 }).subscribe((v) => seen.push([v, Date.now() - start]));
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual([[0, 300], [1, 300], [2, 300], [3, 400], [4, 500]]);
  });
});

describe('faulty providers', () => {
  const ctx = () => new ChatContext([createMessage('user', 'hi')]);

  it('FaultyLLM: queued faults first, then the plan; a synchronous throw; open streams counted', async () => {
    const llm = new FaultyLLM(new FakeLLM([{ input: 'hi', content: 'hello there', ttft: 100, duration: 200 }]), (call) => (call === 3 ? { kind: 'error_before' } : null));
    llm.faults.next({ kind: 'throw_sync', message: 'boom' }, null);
    expect(() => llm.chat({ chatCtx: ctx(), tools: [] })).toThrow('boom');
    const ok = await collect(llm.chat({ chatCtx: ctx(), tools: [] }).pipe(map((c) => c.delta?.content ?? '')));
    expect(ok.items.join('')).toBe('hello there');
    const held = llm.chat({ chatCtx: ctx(), tools: [] }).subscribe();
    expect(llm.faults.live).toBe(1);
    held.unsubscribe();
    expect(llm.faults.live).toBe(0);
    expect((await collect(llm.chat({ chatCtx: ctx(), tools: [] }))).end).toMatch(/^error: llm fake-llm: injected failure/);
    expect(llm.faults.injected.map((i) => [i.call, i.fault.kind])).toEqual([[0, 'throw_sync'], [3, 'error_before']]);
  });

  it('FaultyTTS: a stream that fails after some frames of audio', async () => {
    const tts = new FaultyTTS(new FakeTTS([], { msPerChar: 60 }), new FaultPlan().next({ kind: 'error_mid', afterItems: 4 }));
    const r = await collect(tts.stream!(of('alpha bravo')));
    expect(r.items).toHaveLength(4);
    expect(r.end).toMatch(/injected failure after 4 items/);
    expect((await collect(tts.stream!(of('alpha bravo')))).items).toHaveLength(33); // 660 ms in 20 ms frames
  });

  it('FaultySTT: a recognition stream that simply completes', async () => {
    const script = new UserSpeechScript([{ start: 100, end: 400, transcript: 'hello' }, { start: 3000, end: 3500, transcript: 'again' }]);
    const stt = new FaultySTT(new FakeSTT(script), () => ({ kind: 'complete_early', afterMs: 1000 }));
    const r = await collect(stt.stream(of()));
    expect(r.end).toBe('complete');
    expect(r.items.filter((e) => e.type === 'final_transcript').map((e) => e.alternatives![0]!.text)).toEqual(['hello']);
  });
});

describe('scriptedTool', () => {
  const ctx = (signal?: AbortSignal) => ({ signal }) as unknown as RunContext;

  it('answers, answers slowly, raises, crashes synchronously and hands off, counting what is pending', async () => {
    const agent = new Agent({ instructions: 'next' });
    const tool = scriptedTool('t', (call) =>
      [{ kind: 'ok', result: 'r0' }, { kind: 'slow', ms: 500, result: 'r1' }, { kind: 'tool_error', message: 'bad' }, { kind: 'throw', sync: true }, { kind: 'handoff', agent: () => agent }][call] as never,
    );
    expect(tool.execute({}, ctx())).toBe('r0');
    const slow = tool.execute({}, ctx()) as Promise<string>;
    expect(tool.stats.pending).toBe(1);
    expect(tool.stats.timers).toBe(1);
    expect(() => tool.execute({}, ctx())).toThrow('bad');
    expect(() => tool.execute({}, ctx())).toThrow('t crashed');
    await expect(tool.execute({}, ctx())).resolves.toBe(agent);
    await vi.advanceTimersByTimeAsync(500);
    await expect(slow).resolves.toBe('r1');
    expect(tool.stats).toMatchObject({ calls: 5, settled: 5, pending: 0, timers: 0 });
    expect(tool.parse(JSON.parse('{"n": 3}'))).toEqual({ n: 3 });
    expect(() => JSON.parse(BROKEN_JSON_ARGUMENTS)).toThrow();
  });

  it('a call that never settles stays pending, unless the run context aborts it', async () => {
    const tool = scriptedTool('hang', { kind: 'never' });
    let settled = false;
    void (tool.execute({}, ctx()) as Promise<unknown>).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(settled).toBe(false);
    const ac = new AbortController();
    const aborted = tool.execute({}, ctx(ac.signal)) as Promise<unknown>;
    ac.abort();
    await expect(aborted).rejects.toThrow('aborted');
    expect(tool.stats).toMatchObject({ calls: 2, pending: 1, aborted: 1 });
  });
});

describe('outputs and noise', () => {
  const frame = () => new AudioFrame(new Int16Array(480), 24000, 1, 480); // 20 ms

  it('StallingAudioOutput: a stall delays playback, and combines with the session’s own pause', async () => {
    const device = new FakeAudioOutput({ canPause: true });
    const out = new StallingAudioOutput(device);
    const done = lastValueFrom(out.events$.pipe(take(2), map((e) => ({ ...e, at: Date.now() - 1_000_000 })), toArray()));
    for (let i = 0; i < 50; i++) out.captureFrame(frame()); // 1 s
    out.flush();
    await vi.advanceTimersByTimeAsync(200);
    out.stall(300);
    out.pause(); // the session pauses during the stall…
    await vi.advanceTimersByTimeAsync(500);
    expect(device.paused).toBe(true); // …so the end of the stall does not resume it
    out.resume();
    await vi.advanceTimersByTimeAsync(2000);
    const [, finished] = await done;
    // 1 s of audio, held from 200 ms (stall, then pause) to the resume at 700 ms: it ends at 1.5 s.
    expect(finished).toMatchObject({ type: 'playback_finished', interrupted: false, at: 1500 });
    expect(() => new StallingAudioOutput(new FakeAudioOutput())).toThrow(/needs an output that can pause/);
  });

  it('noiseBurst: the VAD hears speech, the STT no transcript', async () => {
    const script = new UserSpeechScript();
    const events: string[] = [];
    const sub = new FakeSTT(script).stream(of()).subscribe((e) => events.push(e.type));
    noiseBurst(script, { inMs: 100, durationMs: 400 });
    await vi.advanceTimersByTimeAsync(2000);
    sub.unsubscribe();
    expect(events).toEqual(['start_of_speech', 'end_of_speech']);
  });
});
