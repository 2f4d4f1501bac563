import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, AgentSession, APIError } from '../src/index.ts';
import { FakeAudioOutput, FakeLLM, FakeTTS, silentAudio } from '../src/testing/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

describe('errors', () => {
  beforeEach(useVirtualTime);
  afterEach(() => vi.useRealTimers());

  it('an LLM error is an error event; the session keeps running and the next turn works', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'first' }, { start: 3000, end: 3500, transcript: 'second' }],
      llm: [{ input: 'first', error: new APIError('upstream 500', { retryable: false }), ttft: 100 }, { input: 'second', content: 'Works.' }],
    });
    await h.at(6000);
    const errors = h.rec.of('error');
    expect(errors.map((e) => [e.source, e.recoverable, e.error.message])).toEqual([['llm', false, 'upstream 500']]);
    expect(h.session.lifecycle).toBe('running');
    expect(historyText(h.session).slice(1)).toEqual(['user: first', 'user: second', 'assistant: Works.']);
    expect(h.rec.agentStates()).toEqual(['listening', 'thinking', 'listening', 'thinking', 'speaking', 'listening']);
    await h.session.close();
  });

  it('more than maxUnrecoverableErrors LLM failures close the session with reason error', async () => {
    const fail = (input: string) => ({ input, error: new APIError('down', { retryable: false }) });
    const h = await startHarness({
      utterances: [0, 2000, 4000, 6000, 8000].map((t, i) => ({ start: t, end: t + 300, transcript: `q${i}` })),
      llm: [0, 1, 2, 3, 4].map((i) => fail(`q${i}`)),
      session: { maxUnrecoverableErrors: 3 },
    });
    await h.at(12000);
    expect(h.rec.of('error')).toHaveLength(4);
    const close = h.rec.of('close');
    expect(close.map((c) => [c.reason, c.error?.message])).toEqual([['error', 'down']]);
    expect(h.session.lifecycle).toBe('closed');
  });

  it('a TTS failure mid-speech keeps only the words that played and reports the error', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'talk' }],
      llm: [{ input: 'talk', content: 'Some words that will not all be spoken.' }],
      tts: [{ input: 'Some words that will not all be spoken.', error: new APIError('tts broke', { retryable: false }) }],
    });
    await h.at(4000);
    expect(h.rec.of('error').map((e) => e.source)).toEqual(['tts']);
    expect(historyText(h.session).slice(1)).toEqual(['user: talk']);
    expect(h.session.agentState).toBe('listening');
    await h.session.close();
  });

  it('a throwing event listener is reported, not fatal', async () => {
    const h = await startHarness({ utterances: [{ start: 0, end: 500, transcript: 'hi' }], llm: [{ input: 'hi', content: 'Hello.' }] });
    h.session.on('user_input_transcribed', () => {
      throw new Error('listener bug');
    });
    await h.at(3000);
    expect(h.rec.of('error').map((e) => e.error.message)).toEqual(['listener bug']);
    expect(historyText(h.session).slice(1)).toEqual(['user: hi', 'assistant: Hello.']);
    await h.session.close();
  });

  it('bad options are rejected with a clear message', () => {
    expect(() => new AgentSession({ turnHandling: { endpointing: { minDelay: -1 } } })).toThrow(/minDelay must be a non-negative/);
    expect(() => new AgentSession({ turnHandling: { endpointing: { minDelay: 900, maxDelay: 100 } } })).toThrow(/maxDelay/);
    expect(() => new AgentSession({ turnHandling: { turnDetection: 'telepathy' as never } })).toThrow(/turnDetection/);
    expect(() => new AgentSession().userdata).toThrow(/userdata was never set/);
  });
});

describe('resources (real time)', () => {
  it('a session leaves no timers or handles behind after close()', async () => {
    const before = new Set(process.getActiveResourcesInfo().map((r, i) => `${r}#${i}`)).size;
    const session = new AgentSession({ llm: new FakeLLM([{ input: '', content: 'Hi.' }]), tts: new FakeTTS([{ input: 'Hi.', duration: 60 }]) });
    session.output.audio = new FakeAudioOutput();
    session.input.audio = silentAudio({ frameMs: 10 });
    await session.start({ agent: new Agent({ instructions: 'x' }) });
    const h = session.generateReply();
    await h.waitForPlayout();
    expect(session.history.messages().map((m) => m.content[0])).toEqual(['Hi.']);
    await session.close();
    await new Promise((r) => setImmediate(r));
    const after = process.getActiveResourcesInfo().length;
    expect(after).toBeLessThanOrEqual(before);
  });
});

describe('recognition failures (virtual time)', () => {
  beforeEach(useVirtualTime);
  afterEach(() => vi.useRealTimers());

  it('a failing STT stream is reported and restarted; later speech is still understood', async () => {
    const { Observable } = await import('rxjs');
    const { FakeSTT } = await import('../src/testing/index.ts');
    const h = await startHarness({
      utterances: [{ start: 2000, end: 2600, transcript: 'are you there' }],
      llm: [{ input: 'are you there', content: 'Yes.' }],
    });
    // Replace the STT with one that fails once, 100 ms after it starts, then behaves.
    const real = new FakeSTT(h.script);
    let attempts = 0;
    const flaky = {
      label: 'flaky-stt',
      capabilities: real.capabilities,
      stream: (a: any) =>
        ++attempts === 1
          ? new Observable<any>((sub) => void setTimeout(() => sub.error(new APIError('socket closed', { retryable: true })), 100))
          : real.stream(a),
    };
    (h.session as any).activity.stt = flaky;
    (h.session as any).activity.attachAudio(h.session.input.audio);
    await h.at(5000);
    expect(attempts).toBe(2);
    expect(h.rec.of('error').map((e) => [e.source, e.error.message])).toEqual([['stt', 'socket closed']]);
    expect(historyText(h.session).slice(1)).toEqual(['user: are you there', 'assistant: Yes.']);
    await h.session.close();
  });
});

describe('bad input audio (virtual time)', () => {
  beforeEach(useVirtualTime);
  afterEach(() => vi.useRealTimers());

  it('a failing input stream is an error event; the session keeps running and keeps its history', async () => {
    const { throwError } = await import('rxjs');
    const { AudioFormatError } = await import('../src/index.ts');
    const h = await startHarness({ tts: [{ input: 'Still here.', duration: 500 }], utterances: [{ start: 0, end: 500, transcript: 'hello' }], llm: [{ input: 'hello', content: 'Hi.' }] });
    await h.at(2500);
    h.session.input.audio = throwError(() => new AudioFormatError('odd byte count in PCM input (1023 bytes)'));
    await h.at(3000);
    expect(h.rec.of('error').map((e) => [e.source, e.error.message])).toEqual([['audio_input', 'odd byte count in PCM input (1023 bytes)']]);
    expect(h.session.lifecycle).toBe('running');
    h.session.say('Still here.');
    await h.at(4000);
    expect(historyText(h.session).slice(1)).toEqual(['user: hello', 'assistant: Hi.', 'assistant: Still here.']);
    await h.session.close();
  });
});
