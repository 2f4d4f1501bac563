/**
 * Regression tests for the core defects of issue 8, part 2 (states that lie, hung tools, wedged or deaf sessions,
 * malformed input, and the smaller ones). Each failed on the core before the actor-tree rewrite.
 */
import OpenAI from 'openai';
import { Observable, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, AudioFrame, functionTool, type SynthesizedAudio, type TTS, type VAD, type VADEvent } from '../src/index.ts';
import { toAPIError } from '../src/providers/retry.ts';
import { FakeAudioOutput, FakeSTT } from '../src/testing/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

describe('6. states that do not lie', () => {
  it('a paused FakeAudioOutput reports playback_started at its first audible frame, on resume', () => {
    const out = new FakeAudioOutput({ canPause: true });
    const started: number[] = [];
    out.events$.subscribe((e) => e.type === 'playback_started' && started.push(e.createdAt - Date.now()));
    out.pause();
    out.captureFrame(AudioFrame.silence(24000, 1, 20));
    expect(started).toEqual([]);
    vi.advanceTimersByTime(300);
    out.resume();
    expect(started).toEqual([0]);
  });

  it('the agent is not speaking while the output is paused and nothing is audible', async () => {
    const h = await startHarness({
      // The reply's audio arrives at 2000, while a cough (1800..1900) has paused the output pre-emptively; the pause
      // ends with the false-interruption timeout 2000 ms after the cough's reported end (2150).
      utterances: [{ start: 0, end: 1000, transcript: 'Hello' }, { start: 1800, end: 1900 }],
      llm: [{ input: 'Hello', content: 'Hi there!', ttft: 100, duration: 100 }],
      tts: [{ input: 'Hi there!', ttfb: 400, duration: 1000 }],
      canPause: true,
    });
    await h.at(6000);
    const speakingAt = h.stateAt('agent_state_changed', 'speaking');
    expect(speakingAt).toHaveLength(1);
    expect(h.output.segments).toHaveLength(1);
    expect(h.output.segments[0]!.playedMs).toBe(1000);
    // Speaking begins with audible audio: not before the output resumed.
    expect(speakingAt[0]).toBeGreaterThanOrEqual(2150);
    // While paused for the user the agent listens; it thinks again once the pause ends, and speaks when audible.
    expect(h.rec.agentStates()).toEqual(['listening', 'thinking', 'listening', 'thinking', 'speaking', 'listening']);
    await h.session.close();
  });
});

describe('7. tools that never settle', () => {
  const hang = (seen: AbortSignal[]) =>
    functionTool({
      name: 'lookup',
      description: 'never returns',
      execute: (_args, ctx) => {
        seen.push(ctx.abortSignal);
        return new Promise(() => {});
      },
    });

  it('do not block later turns: the next turn interrupts the speech, the tool is aborted and gets one output', async () => {
    const seen: AbortSignal[] = [];
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'look it up' }, { start: 4000, end: 4500, transcript: 'hello?' }],
      llm: [
        { input: 'look it up', content: 'One moment.', toolCalls: [{ name: 'lookup', arguments: {} }] },
        { input: 'hello?', content: 'Still here.' },
      ],
      session: { tools: [hang(seen)] },
    });
    await h.at(8000);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.aborted).toBe(true);
    const outs = h.session.history.items.filter((i) => i.type === 'function_call_output');
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({ isError: true });
    expect(historyText(h.session).at(-1)).toBe('assistant: Still here.');
    await h.session.close();
  });

  it('close() resolves within closeTimeout whatever the tool and the hooks do', async () => {
    class Stuck extends Agent {
      constructor() {
        super({ instructions: 'stuck', allowInterruptions: false });
      }
      override onExit() {
        return new Promise<void>(() => {});
      }
    }
    const seen: AbortSignal[] = [];
    const h = await startHarness({
      agent: new Stuck(),
      utterances: [{ start: 0, end: 500, transcript: 'look it up' }],
      llm: [{ input: 'look it up', toolCalls: [{ name: 'lookup', arguments: {} }] }],
      session: { tools: [hang(seen)], closeTimeout: 1000 },
    });
    await h.at(2000);
    expect(seen).toHaveLength(1);
    let closed = false;
    void h.session.close().then(() => (closed = true));
    await h.at(2000 + 1000 * 3 + 10); // onExit, pending turns and the tasks each get at most closeTimeout
    expect(closed).toBe(true);
    expect(seen[0]!.aborted).toBe(true);
    expect(h.session.history.items.filter((i) => i.type === 'function_call_output')).toHaveLength(1);
  });
});

describe('8. no wedged or deaf session', () => {
  it('an LLM whose chat() throws synchronously: an error event, the user message kept, the next turn answered', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'first' }, { start: 3000, end: 3500, transcript: 'second' }],
      llm: [{ input: 'second', content: 'Works.' }],
    });
    const real = h.llm.chat.bind(h.llm);
    let calls = 0;
    h.llm.chat = (req) => {
      if (++calls === 1) throw new Error('bad request built');
      return real(req);
    };
    await h.at(6000);
    expect(h.rec.of('error').map((e) => [e.source, e.error.message])).toEqual([['llm', 'bad request built']]);
    expect(historyText(h.session).slice(1)).toEqual(['user: first', 'user: second', 'assistant: Works.']);
    await h.session.close();
  });

  it('an STT stream that completes is reported and restarted; later speech is still understood', async () => {
    const h = await startHarness({
      utterances: [{ start: 3000, end: 3600, transcript: 'are you there' }],
      llm: [{ input: 'are you there', content: 'Yes.' }],
    });
    const real = new FakeSTT(h.script);
    let attempts = 0;
    const ending = {
      label: 'ending-stt',
      capabilities: real.capabilities,
      stream: (a: any) => (++attempts === 1 ? new Observable<any>((sub) => void setTimeout(() => sub.complete(), 100)) : real.stream(a)),
    };
    const act = (h.session as any).activity;
    act.stt = ending;
    act.attachAudio(h.session.input.audio);
    await h.at(6000);
    expect(attempts).toBe(2);
    expect(h.rec.of('error').map((e) => [e.source, e.recoverable])).toEqual([['stt', true]]);
    expect(historyText(h.session).slice(1)).toEqual(['user: are you there', 'assistant: Yes.']);
    await h.session.close();
  });

  it('a TTS frame with a NaN or zero sample rate is an error event and is not played', async () => {
    const frames = () =>
      new Observable<SynthesizedAudio>((sub) => {
        sub.next({ frame: { data: new Int16Array(480), sampleRate: Number.NaN, channels: 1, samplesPerChannel: 480 } as unknown as AudioFrame });
        sub.next({ frame: { data: new Int16Array(480), sampleRate: 0, channels: 1, samplesPerChannel: 480 } as unknown as AudioFrame });
        sub.next({ frame: AudioFrame.silence(24000, 1, 20) });
        sub.complete();
      });
    const bad: TTS = {
      label: 'bad-tts',
      sampleRate: 24000,
      numChannels: 1,
      capabilities: { streaming: true, alignedTranscript: false },
      synthesize: frames,
      stream: (text$) => new Observable<SynthesizedAudio>((sub) => text$.subscribe({ complete: () => frames().subscribe(sub) })),
    };
    const h = await startHarness({ utterances: [{ start: 0, end: 500, transcript: 'talk' }], llm: [{ input: 'talk', content: 'Okay.' }] });
    (h.session as any).activity.tts = bad;
    await h.at(4000);
    const errors = h.rec.of('error');
    expect(errors.map((e) => e.source)).toEqual(['tts', 'tts']);
    expect(errors[0]!.error.message).toMatch(/sample rate NaN/);
    expect(h.output.segments.map((s) => s.pushedMs)).toEqual([20]);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });
});

describe('9. malformed input frames', () => {
  it('are validated at the input boundary: reported once per kind, dropped or converted', async () => {
    const frames: Array<{ rate: number; n: number; data: string }> = [];
    const spy: VAD = {
      label: 'spy-vad',
      stream: (audio) =>
        new Observable<VADEvent>(() => {
          const s = audio.subscribe((f) => frames.push({ rate: f.sampleRate, n: f.samplesPerChannel, data: f.data.constructor.name }));
          return () => s.unsubscribe();
        }),
    };
    const input = new Subject<unknown>();
    const h = await startHarness({ session: { vad: spy }, noStt: true });
    h.session.input.audio = input as Observable<AudioFrame>;
    const good = AudioFrame.silence(16000, 1, 32);
    const bad511 = { data: new Int16Array(511), sampleRate: 16000, channels: 1, samplesPerChannel: 512 };
    const bytes = { data: new Uint8Array(1024), sampleRate: 16000, channels: 1, samplesPerChannel: 512 };
    const nanFloats = { data: new Float32Array([0.5, Number.NaN, -0.5, 0]), sampleRate: 16000, channels: 1, samplesPerChannel: 4 };
    const oddStereo = { data: new Int16Array(3), sampleRate: 16000, channels: 2, samplesPerChannel: 1 };
    for (const f of [good, bad511, bad511, bytes, nanFloats, oddStereo, oddStereo, good]) input.next(f);
    await h.at(100);
    expect(frames).toEqual([
      { rate: 16000, n: 512, data: 'Int16Array' },
      { rate: 16000, n: 512, data: 'Int16Array' },
      { rate: 16000, n: 4, data: 'Int16Array' },
      { rate: 16000, n: 512, data: 'Int16Array' },
    ]);
    const errors = h.rec.of('error');
    expect(errors.map((e) => e.source)).toEqual(['audio_input', 'audio_input', 'audio_input', 'audio_input']);
    expect(errors.map((e) => e.recoverable)).toEqual([true, true, true, true]);
    expect(errors[0]!.error.message).toMatch(/511 samples but declares 1 × 512; frame dropped/);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });
});

describe('10. smaller defects', () => {
  it('preemptive generation never sends an empty user message when the final arrives after the endpointing delay', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Hello', sttDelay: 800 }],
      llm: [{ input: 'Hello', content: 'Hi.' }],
      session: { preemptiveGeneration: true },
    });
    await h.at(4000);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['Hello']);
    await h.session.close();
  });

  it('speech_created.userInitiated is false for a user turn reply and true for say()', async () => {
    const h = await startHarness({ utterances: [{ start: 0, end: 500, transcript: 'hi' }], llm: [{ input: 'hi', content: 'Hello.' }] });
    await h.at(3000);
    h.session.say('Anything else?');
    await h.at(5000);
    expect(h.rec.of('speech_created').map((e) => [e.source, e.userInitiated])).toEqual([
      ['generate_reply', false],
      ['say', true],
    ]);
    await h.session.close();
  });

  it('interrupt() on an uninterruptible speech rejects; it never throws synchronously', async () => {
    const h = await startHarness({ tts: [{ input: 'Listen.', duration: 2000 }] });
    h.session.say('Listen.', { allowInterruptions: false });
    await h.at(100);
    let result: Promise<void> | undefined;
    expect(() => (result = h.session.interrupt())).not.toThrow();
    await expect(result).rejects.toThrow(/does not allow interruptions/);
    await h.session.close();
  });

  it('tool-call arguments are kept verbatim', async () => {
    const weather = functionTool({ name: 'get_weather', description: 'w', execute: () => 'sunny' });
    const raw = '{ "city" :  "Paris" }';
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'weather' }],
      llm: [{ input: 'weather', toolCalls: [{ name: 'get_weather', arguments: raw }] }],
      session: { tools: [weather] },
    });
    await h.at(3000);
    const call = h.session.history.items.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ arguments: raw });
    await h.session.close();
  });

  it('the script does not replay to a new agent a final transcript delivered in the same millisecond as the handoff', async () => {
    class Next extends Agent {
      constructor() {
        super({ instructions: 'next', id: 'next' });
      }
    }
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'switch me', sttDelay: 500 }],
      session: { turnHandling: { endpointing: { minDelay: 2000 } } },
    });
    await h.at(1500); // the final is delivered to the first agent at 1500
    h.session.updateAgent(new Next());
    await h.at(6000);
    const said = h.session.history.messages().filter((m) => m.role === 'user').map((m) => m.content.join(' '));
    expect(said).toEqual(['switch me']);
    await h.session.close();
  });

  it('a refused connection from the OpenAI SDK ("Connection error.") is retryable', async () => {
    vi.useRealTimers();
    const client = new OpenAI({ apiKey: 'test', baseURL: 'http://127.0.0.1:1/v1', maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('Connection error.');
    const mapped = toAPIError(err);
    expect(mapped.name).toBe('APIConnectionError');
    expect(mapped.retryable).toBe(true);
  });
});

describe('8b. an input that ends', () => {
  it('is not replayed by restarting recognition, and a speech the VAD left open is closed', async () => {
    let subscriptions = 0;
    const vad: VAD = {
      label: 'ending-vad',
      stream: (audio) =>
        new Observable<VADEvent>((sub) => {
          subscriptions++;
          let n = 0;
          return audio.subscribe({
            next: () => {
              if (n++ === 0) sub.next({ type: 'start_of_speech', timestamp: Date.now(), speechDuration: 0, silenceDuration: 0, inferenceDuration: 0, probability: 1, speaking: true } as VADEvent);
            },
            complete: () => sub.complete(),
          });
        }),
    };
    const h = await startHarness({ session: { vad }, noStt: true });
    const before = subscriptions; // the harness's own (never-ending) input
    h.session.input.audio = new Observable<AudioFrame>((sub) => {
      for (let i = 0; i < 5; i++) sub.next(AudioFrame.silence(16000, 1, 20));
      sub.complete();
    });
    await h.at(30_000);
    expect(subscriptions - before).toBe(1);
    expect(h.rec.of('error')).toEqual([]);
    // Speaking, closed when the input ended, then away after userAwayTimeout of silence.
    expect(h.rec.userStates()).toEqual(['speaking', 'listening', 'away']);
    await h.session.close();
  });
});
