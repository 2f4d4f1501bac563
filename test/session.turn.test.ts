import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

describe('one user turn', () => {
  it('goes listening → thinking → speaking → listening with the right timings, items and metrics', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: 'Hi there!', ttft: 200, duration: 400 }],
      tts: [{ input: 'Hi there!', ttfb: 100, duration: 1000 }],
    });
    await h.at(4000);
    expect(h.rec.agentStates()).toEqual(['listening', 'thinking', 'speaking', 'listening']);
    expect(h.rec.userStates()).toEqual(['speaking', 'listening']);
    // VAD start is back-dated to the real start of speech, the end to the real end.
    expect(h.stateAt('user_state_changed', 'speaking')).toEqual([0]);
    expect(h.stateAt('user_state_changed', 'listening')).toEqual([1000]);
    // Turn commits at end of speech (1000) + minDelay (500); LLM done at +400; TTS first audio +100.
    expect(h.stateAt('agent_state_changed', 'thinking')).toEqual([1500]);
    expect(h.stateAt('agent_state_changed', 'speaking')).toEqual([2000]);
    expect(h.stateAt('agent_state_changed', 'listening').at(-1)).toBe(3000);
    expect(historyText(h.session)).toEqual(['handoff - -> default_agent', 'user: Hello', 'assistant: Hi there!']);

    const added = h.rec.of('conversation_item_added').map((e) => e.item.type === 'message' ? e.item.role : e.item.type);
    expect(added).toEqual(['agent_handoff', 'user', 'assistant']);
    const transcribed = h.rec.of('user_input_transcribed');
    expect(transcribed.map((e) => [e.transcript, e.isFinal])).toEqual([['Hello', true]]);

    const metrics = h.rec.of('metrics_collected').map((e) => e.metrics);
    const eou = metrics.find((m) => m.type === 'eou_metrics')!;
    expect(eou).toMatchObject({ endOfUtteranceDelayMs: 500, transcriptionDelayMs: 100 });
    const llm = metrics.find((m) => m.type === 'llm_metrics')!;
    expect(llm).toMatchObject({ ttftMs: 200, cancelled: false });
    const tts = metrics.find((m) => m.type === 'tts_metrics')!;
    // ttfb counts from the first text handed to the TTS: "Hi " is held by filter_markdown (a trailing space may
    // precede a marker) until "there!" arrives at 1900; the audio comes 100 ms later.
    expect(tts).toMatchObject({ ttfbMs: 100, audioDurationMs: 1000, charactersCount: 'Hi there!'.length });
    const created = h.rec.of('speech_created');
    expect(created.map((e) => e.source)).toEqual(['generate_reply']);
    expect(h.text.segments).toEqual(['Hi there!']);
    await h.session.close();
  });

  it('the reply carries its latency breakdown, and usage adds up per model after every metrics event', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: 'Hi there!', ttft: 200, duration: 400 }],
      tts: [{ input: 'Hi there!', ttfb: 100, duration: 1000 }],
    });
    await h.at(4000);
    const [user, reply] = h.session.history.items.filter((i) => i.type === 'message');
    // Commit at 1500; first token at 1700; "Hi " is held by filter_markdown until 1900, when the text reaches the
    // TTS; audio at 2000, played at once; the user stopped speaking at 1000.
    expect(reply!.metrics).toMatchObject({ llmNodeTtft: 200, llmNodeTtfs: 400, ttsNodeTtfb: 100, playbackLatency: 0, e2eLatency: 1000 });
    expect(reply!.metrics!.startedSpeakingAt - user!.metrics!.stoppedSpeakingAt).toBe(1000);

    const usage = h.session.usage.modelUsage;
    // The harness sends the STT no audio: a final transcript with 0 ms of audio behind it is no STT usage.
    expect(usage).toEqual([
      { type: 'llm', label: 'fake-llm', requests: 1, inputTokens: 2, outputTokens: 2, cachedInputTokens: 0 }, // instructions + user; 2 words
      { type: 'tts', label: 'fake-tts', requests: 1, charactersCount: 'Hi there!'.length, audioDurationMs: 1000 },
    ]);
    expect(h.rec.of('session_usage_updated')).toHaveLength(2);
    expect(h.rec.of('metrics_collected').filter((e) => e.metrics.type === 'stt_metrics')).toEqual([]);
    expect(h.rec.of('session_usage_updated').at(-1)!.usage).toEqual(h.session.usage);
    h.session.usage.modelUsage[0]!.requests = 99; // a copy: the session's own count is untouched
    expect(h.session.usage.modelUsage[0]!.requests).toBe(1);
    await h.session.close();
  });

  it("a reasoning model's <think> span is neither spoken, shown nor kept in the history", async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Time?' }],
      llm: [{ input: 'Time?', content: '<think>The user asks the time. Answer briefly.</think>\n\nIt is noon.', ttft: 100, duration: 300 }],
      tts: [{ input: 'It is noon.', ttfb: 50, duration: 600 }],
    });
    await h.at(4000);
    expect(historyText(h.session).slice(1)).toEqual(['user: Time?', 'assistant: It is noon.']);
    expect(h.tts.inputs).toEqual(['It is noon.']);
    expect(h.text.segments).toEqual(['It is noon.']);
    await h.session.close();
  });
});
