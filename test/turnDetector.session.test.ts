import { interval, map } from 'rxjs';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentSession } from '../src/index.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import type { ChatContext } from '../src/llm/chatContext.ts';
import { OnnxTurnDetector } from '../src/plugins/turn-detector/index.ts';
import type { AudioTurnDetector, TextTurnDetector } from '../src/turn/types.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';
import { rawAudioModel, throwingModel, writeModel } from './helpers/onnxModel.ts';

// Captured before the fake timers: the ONNX thread answers in real time while the session's clock stands still.
const realSetTimeout = globalThis.setTimeout;
const realSleep = (ms: number) => new Promise((r) => realSetTimeout(r, ms));
async function untilReal(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4000 && !cond(); i++) await realSleep(5);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

/** An audio detector that answers from a script and records what it was given. */
function scriptedAudioDetector(answers: number[] | ((audio: Float32Array) => number), maxSilence?: number) {
  const seen: { transcript: string; audio: Float32Array }[] = [];
  const d: AudioTurnDetector = {
    label: 'scripted-audio',
    input: 'audio',
    unlikelyThreshold: 0.5,
    maxSilence,
    predictEndOfTurn: async (transcript, ctx) => {
      seen.push({ transcript, audio: ctx.audio });
      return typeof answers === 'function' ? answers(ctx.audio) : (answers[seen.length - 1] ?? 1);
    },
  };
  return { d, seen };
}

const thinkingAt = (h: Awaited<ReturnType<typeof startHarness>>) => h.stateAt('agent_state_changed', 'thinking');

describe('end-of-turn models in a session (virtual time)', () => {
  it('an unlikely end holds the pause open until maxSilence, a likely one ends at minDelay', async () => {
    const { d, seen } = scriptedAudioDetector([0.2, 0.9], 1800);
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'so I was thinking' }, { start: 10000, end: 11000, transcript: 'that is all.' }],
      llm: [{ input: 'so I was thinking', content: 'Go on.' }, { input: 'that is all.', content: 'Ok.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 6000 } } },
    });
    await h.at(2700);
    expect(thinkingAt(h)).toEqual([]); // held: neither minDelay (1500) nor anything before 1000 + 1800
    await h.at(15000);
    expect(thinkingAt(h)).toEqual([1000 + 1800, 11000 + 500]);
    expect(seen.map((s) => s.transcript)).toEqual(['so I was thinking', 'that is all.']);
    await h.session.close();
  });

  it('speech that resumes inside the held pause continues the same turn', async () => {
    const { d, seen } = scriptedAudioDetector([0.1, 0.95], 2000);
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'I want to book' }, { start: 2200, end: 3000, transcript: 'a table for two.' }],
      llm: [{ input: 'I want to book a table for two.', content: 'Sure.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 6000 } } },
    });
    await h.at(8000);
    expect(thinkingAt(h)).toEqual([3000 + 500]);
    expect(historyText(h.session).slice(1)).toEqual(['user: I want to book a table for two.', 'assistant: Sure.']);
    expect(seen).toHaveLength(2);
    await h.session.close();
  });

  it('without maxSilence an unlikely end holds for the endpointing maxDelay', async () => {
    const { d } = scriptedAudioDetector([0.1]);
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'hmm' }],
      llm: [{ input: 'hmm', content: 'Yes?' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 400, maxDelay: 2500 } } },
    });
    await h.at(6000);
    expect(thinkingAt(h)).toEqual([1000 + 2500]);
    await h.session.close();
  });

  it('the audio detector hears the session input: the latest 16 kHz samples, newest last', async () => {
    const { d, seen } = scriptedAudioDetector(() => 0.9);
    const h = await startHarness({
      utterances: [{ start: 3000, end: 4000, transcript: 'hello there' }],
      llm: [{ input: 'hello there', content: 'Hi.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 300, maxDelay: 3000 } } },
    });
    // 20 ms frames at 16 kHz whose samples count the frames (so order and recency are visible).
    let n = 0;
    h.session.input.audio = interval(20).pipe(map(() => new AudioFrame(new Int16Array(320).fill(++n), 16000, 1, 320)));
    await h.at(6000);
    expect(seen).toHaveLength(1);
    const audio = seen[0]!.audio;
    // Asked when the VAD reported the end (4250 ms): about 212 frames heard, all kept (the ring holds 8 s).
    expect(audio.length).toBeGreaterThanOrEqual(200 * 320);
    expect(audio.length).toBeLessThanOrEqual(215 * 320);
    const last = Math.round(audio[audio.length - 1]! * 32768);
    expect(Math.round(audio[0]! * 32768)).toBe(1);
    expect(last).toBe(audio.length / 320);
    await h.session.close();
  });

  it('a text detector gets the transcript and the agent chat context', async () => {
    const contexts: ChatContext[] = [];
    const d: TextTurnDetector = {
      label: 'words',
      unlikelyThreshold: 0.5,
      predictEndOfTurn: async (t, ctx) => {
        contexts.push(ctx.chatCtx);
        return t.endsWith('.') ? 0.9 : 0.1;
      },
    };
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Book it.' }],
      llm: [{ input: 'Book it.', content: 'Done.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 3000 } } },
    });
    await h.at(5000);
    expect(thinkingAt(h)).toEqual([1500]);
    expect(contexts[0]!.messages()[0]!.content).toEqual(['You are a test agent.']);
    await h.session.close();
  });

  it('a failing detector is reported once; the session falls back to VAD endpointing and keeps running', async () => {
    let calls = 0;
    const d: AudioTurnDetector = {
      label: 'broken',
      input: 'audio',
      unlikelyThreshold: 0.5,
      predictEndOfTurn: async () => {
        calls++;
        throw new Error('model exploded');
      },
    };
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'first' }, { start: 8000, end: 9000, transcript: 'second' }],
      llm: [{ input: 'first', content: 'One.' }, { input: 'second', content: 'Two.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 3000 } } },
    });
    await h.at(14000);
    expect(thinkingAt(h)).toEqual([1500, 9500]);
    const errors = h.rec.of('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'turn_detector', label: 'broken', recoverable: true });
    expect(errors[0]!.error.message).toMatch(/turn detector broken failed \(model exploded\); this agent falls back to VAD endpointing/);
    expect(calls).toBe(1);
    expect(h.session.lifecycle).toBe('running');
    expect(historyText(h.session).slice(1)).toEqual(['user: first', 'assistant: One.', 'user: second', 'assistant: Two.']);
    await h.session.close();
  });

  it('a detector that answers something other than a probability counts as failing', async () => {
    const d: TextTurnDetector = { label: 'nan', unlikelyThreshold: 0.5, predictEndOfTurn: async () => Number.NaN };
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'hi' }],
      llm: [{ input: 'hi', content: 'Hello.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 3000 } } },
    });
    await h.at(4000);
    expect(thinkingAt(h)).toEqual([1500]);
    expect(h.rec.of('error')[0]!.error.message).toMatch(/must resolve to a probability in \[0, 1\], got NaN/);
    await h.session.close();
  });

  it('a detector that cannot work is refused when the session is created', () => {
    const base = { label: 'x', predictEndOfTurn: async () => 1 };
    expect(() => new AgentSession({ turnHandling: { turnDetection: { ...base, unlikelyThreshold: 1.5 } } })).toThrow(/unlikelyThreshold must be a probability/);
    expect(() => new AgentSession({ turnHandling: { turnDetection: { ...base, unlikelyThreshold: 0.5, maxSilence: -1 } } })).toThrow(/maxSilence/);
    expect(() => new AgentSession({ turnHandling: { turnDetection: { ...base, unlikelyThreshold: 0.5, input: 'video' as never } } })).toThrow(/input must be/);
    expect(() => new AgentSession({ turnHandling: { turnDetection: { label: 'y', unlikelyThreshold: 0.5 } as never } })).toThrow(/predictEndOfTurn/);
  });
});

describe('OnnxTurnDetector in a session', () => {
  const detectors: OnnxTurnDetector[] = [];
  afterAll(async () => {
    await Promise.all(detectors.map((d) => d.close()));
  });

  it('a low probability from the model holds the pause open up to maxSilence', async () => {
    // Constant output: sigmoid(0 · energy − 3) ≈ 0.047, below the 0.5 threshold.
    vi.useRealTimers();
    const d = await OnnxTurnDetector.load({ modelPath: writeModel(rawAudioModel(0, -3)), maxSilence: 2000 });
    detectors.push(d);
    useVirtualTime();
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'well' }],
      llm: [{ input: 'well', content: 'Yes?' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 6000 } } },
    });
    await h.at(1250); // the fake VAD reports the end after 250 ms of silence (back-dated to 1000)
    await untilReal(() => d.stats.predictions === 1, 'the model to answer');
    await h.at(2900);
    expect(thinkingAt(h)).toEqual([]);
    await h.at(5000);
    expect(thinkingAt(h)).toEqual([3000]);
    expect(h.rec.of('error')).toEqual([]);
    await h.session.close();
  });

  it('a model that throws: error event, VAD endpointing, the session keeps running', async () => {
    vi.useRealTimers();
    const d = await OnnxTurnDetector.load({ modelPath: writeModel(throwingModel()), label: 'thrower' });
    detectors.push(d);
    useVirtualTime();
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'first' }, { start: 6000, end: 7000, transcript: 'second' }],
      llm: [{ input: 'first', content: 'One.' }, { input: 'second', content: 'Two.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 3000 } } },
    });
    await h.at(1250);
    await untilReal(() => h.rec.of('error').length > 0, 'the failure to be reported');
    await h.at(12000);
    expect(thinkingAt(h)).toEqual([1500, 7500]);
    const [e] = h.rec.of('error');
    expect(e).toMatchObject({ source: 'turn_detector', label: 'thrower', recoverable: true });
    expect(e!.error.message).toMatch(/inference failed: .*falls back to VAD endpointing/s);
    expect(historyText(h.session).slice(1)).toEqual(['user: first', 'assistant: One.', 'user: second', 'assistant: Two.']);
    await h.session.close();
  });

  it('a terminated inference thread: error event, VAD endpointing, the session keeps running', async () => {
    vi.useRealTimers();
    const d = await OnnxTurnDetector.load({ modelPath: writeModel(rawAudioModel(0, -3)), maxSilence: 2000, label: 'killed' });
    await d._exitThread(1);
    useVirtualTime();
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'hello' }],
      llm: [{ input: 'hello', content: 'Hi.' }],
      session: { turnHandling: { turnDetection: d, endpointing: { minDelay: 500, maxDelay: 3000 } } },
    });
    await h.at(5000);
    expect(thinkingAt(h)).toEqual([1500]);
    expect(h.rec.of('error').map((e) => e.error.message)).toEqual([expect.stringMatching(/killed: the inference thread exited unexpectedly/)]);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });
});
