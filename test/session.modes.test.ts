import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TurnDetector } from '../src/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

describe('turn detection modes and endpointing', () => {
  it('manual: nothing commits until commitUserTurn()', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'first part' }, { start: 2000, end: 2500, transcript: 'second part' }],
      llm: [{ input: 'first part second part', content: 'Got both.' }],
      session: { turnHandling: { turnDetection: 'manual' } },
    });
    await h.at(6000);
    expect(h.llm.requests).toHaveLength(0);
    h.session.commitUserTurn();
    await h.at(9000);
    expect(historyText(h.session).slice(1)).toEqual(['user: first part second part', 'assistant: Got both.']);
    await h.session.close();
  });

  it('stt: the STT end of speech (not the VAD) ends the turn', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'hello stt', sttDelay: 300 }],
      llm: [{ input: 'hello stt', content: 'Hi.' }],
      session: { turnHandling: { turnDetection: 'stt', endpointing: { minDelay: 200 } } },
    });
    await h.at(5000);
    // STT end of speech at 1000, final at 1300: the turn commits when the final arrives (1000 + 200 already passed).
    expect(h.stateAt('agent_state_changed', 'thinking')).toEqual([1300]);
    expect(historyText(h.session).slice(1)).toEqual(['user: hello stt', 'assistant: Hi.']);
    await h.session.close();
  });

  it('a turn detector that finds the end unlikely stretches the delay to maxDelay', async () => {
    const detector: TurnDetector = {
      label: 'test-eot',
      unlikelyThreshold: 0.5,
      predictEndOfTurn: async (t) => (t.trim().endsWith('.') ? 0.9 : 0.1),
    };
    const h = await startHarness({
      utterances: [
        { start: 0, end: 1000, transcript: 'I would like to' },
        { start: 10000, end: 11000, transcript: 'Done.' },
      ],
      llm: [{ input: 'I would like to', content: 'Yes?' }, { input: 'Done.', content: 'Ok.' }],
      session: { turnHandling: { turnDetection: detector, endpointing: { minDelay: 500, maxDelay: 2500 } } },
    });
    await h.at(15000);
    expect(h.stateAt('agent_state_changed', 'thinking')).toEqual([1000 + 2500, 11000 + 500]);
    await h.session.close();
  });

  it('drain() lets the current speech finish, then closes', async () => {
    const h = await startHarness({ tts: [{ input: 'Finishing my sentence.', duration: 2000 }] });
    h.session.say('Finishing my sentence.');
    await h.at(500);
    await Promise.all([h.session.drain(), vi.advanceTimersByTimeAsync(3000)]);
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 2000 })]);
    expect(h.session.lifecycle).toBe('closed');
    expect(() => h.session.say('too late')).toThrow(/not running/);
  });

  it('huge text: a 1 MB say() is accepted, interrupted cleanly, and the session keeps running', async () => {
    const huge = 'word '.repeat(200_000);
    const h = await startHarness({
      utterances: [{ start: 3000, end: 4000, transcript: 'stop' }],
      llm: [{ input: 'stop', content: 'Stopped.' }],
      tts: [{ input: huge, duration: 600_000 }],
    });
    h.session.say(huge);
    await h.at(8000);
    const assistant = h.session.history.messages().filter((m) => m.role === 'assistant');
    expect(assistant[0]!.interrupted).toBe(true);
    expect(assistant[0]!.content[0]!.length).toBeLessThan(huge.length);
    expect(assistant[1]!.content).toEqual(['Stopped.']);
    await h.session.close();
  });
});

describe('lifecycle', () => {
  it('a closed session can start again and keeps its history', async () => {
    const h = await startHarness({ tts: [{ input: 'One.', duration: 300 }, { input: 'Two.', duration: 300 }] });
    h.session.say('One.');
    await h.at(1000);
    await h.session.close();
    expect(h.session.lifecycle).toBe('closed');
    expect(h.session.agentState).toBe('initializing');
    const { Agent } = await import('../src/index.ts');
    await h.session.start({ agent: new Agent({ instructions: 'again' }) });
    expect(h.session.lifecycle).toBe('running');
    h.session.say('Two.');
    await vi.advanceTimersByTimeAsync(1000);
    expect(historyText(h.session).filter((l) => l.startsWith('assistant'))).toEqual(['assistant: One.', 'assistant: Two.']);
    expect(h.rec.of('close')).toHaveLength(1);
    await h.session.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the speech API refuses clearly before start', () => {
    return import('../src/index.ts').then(({ AgentSession }) => {
      const s = new AgentSession();
      expect(() => s.say('hi')).toThrow(/not running/);
      expect(() => s.updateAgent({} as never)).toThrow(/running session/);
    });
  });
});

describe('input processing', () => {
  it('noiseCancellation sits between the input audio and recognition', async () => {
    const { Observable, map } = await import('rxjs');
    const seen: number[] = [];
    const { AudioFrame } = await import('../src/index.ts');
    const h = await startHarness({
      session: {
        noiseCancellation: { label: 'probe', process: (frames) => frames.pipe(map((f) => (seen.push(f.samplesPerChannel), f))) },
      },
    });
    h.session.input.audio = new Observable((sub) => {
      const id = setInterval(() => sub.next(new AudioFrame(new Int16Array(160), 16000, 1, 160)), 10);
      return () => clearInterval(id);
    });
    await h.at(100);
    expect(seen.length).toBeGreaterThanOrEqual(9);
    await h.session.close();
  });
});
