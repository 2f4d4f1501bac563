import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const LONG = 'One two three four five six seven eight.';
const hello = { start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 };
// Reply audio plays 2000..6000 with these scripts.
const replyLong = { input: 'Hello', content: LONG, ttft: 200, duration: 400 };
const ttsLong = { input: LONG, ttfb: 100, duration: 4000 };

describe('interruptions', () => {
  it('while speaking: audio stops, the assistant message keeps only what was heard, marked interrupted', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 4000, transcript: 'stop', sttDelay: 100 }],
      llm: [replyLong, { input: 'stop', content: 'OK.', ttft: 100, duration: 100 }],
      tts: [ttsLong, { input: 'OK.', ttfb: 0, duration: 500 }],
    });
    await h.at(8000);
    // Barge-in at 3000; VAD speech duration reaches minDuration (500) at 3500: 1500 ms of 4000 heard.
    expect(h.output.segments[0]).toMatchObject({ interrupted: true, playedMs: 1500 });
    const assistant = h.session.history.messages().filter((m) => m.role === 'assistant');
    expect(assistant).toHaveLength(2);
    const cut = assistant[0]!;
    expect(cut.interrupted).toBe(true);
    const heard = cut.content.join(' ');
    expect(LONG.startsWith(heard)).toBe(true);
    const words = heard.split(/\s+/).length;
    expect(words).toBeGreaterThanOrEqual(2);
    expect(words).toBeLessThanOrEqual(3); // 8 words × 1500/4000 = 3
    expect(assistant[1]!.content).toEqual(['OK.']);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${heard} [interrupted]`, 'user: stop', 'assistant: OK.']);
    await h.session.close();
  });

  it('before speaking: the stale reply never reaches speaking and leaves no assistant message', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 1700, end: 2700, transcript: 'wait', sttDelay: 100 }],
      llm: [{ input: 'Hello', content: 'Too late.', ttft: 200, duration: 1000 }, { input: 'wait', content: 'Sure.', ttft: 100, duration: 100 }],
      tts: [{ input: 'Too late.', ttfb: 500, duration: 1000 }, { input: 'Sure.', duration: 500 }],
    });
    await h.at(6000);
    const speakingAt = h.stateAt('agent_state_changed', 'speaking');
    // Only the reply to "wait" (committed at 3200) ever speaks.
    expect(speakingAt.length).toBe(1);
    expect(speakingAt[0]).toBeGreaterThan(3200);
    expect(h.tts.inputs).not.toContain('Too late.');
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', 'user: wait', 'assistant: Sure.']);
    await h.session.close();
  });

  it('minWords: a one-word backchannel neither interrupts nor gets a reply while the agent speaks', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 3800, transcript: 'ok', sttDelay: 100 }],
      llm: [replyLong, { input: 'ok', content: 'Should not happen.' }],
      tts: [ttsLong],
      session: { turnHandling: { interruption: { minWords: 3 } } },
    });
    await h.at(7000);
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${LONG}`]);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['Hello']);
    await h.session.close();
  });

  it('minWords: enough words do interrupt', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 3800, transcript: 'no no wait please', sttDelay: 100 }],
      llm: [replyLong, { input: 'no no wait please', content: 'Sorry.' }],
      tts: [ttsLong],
      session: { turnHandling: { interruption: { minWords: 3 } } },
    });
    await h.at(8000);
    // No transcript until the final at 3900: that is when the words arrive and the agent is cut.
    expect(h.output.segments[0]).toMatchObject({ interrupted: true, playedMs: 1900 });
    expect(h.llm.requests.map((r) => r.key)).toEqual(['Hello', 'no no wait please']);
    await h.session.close();
  });

  it('interruptions disabled: the agent finishes, and a turn committed meanwhile gets no reply', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 2500, end: 3000, transcript: 'hey listen', sttDelay: 100 }],
      llm: [replyLong, { input: 'hey listen', content: 'Should not happen.' }],
      tts: [ttsLong],
      session: { turnHandling: { interruption: { enabled: false } } },
    });
    await h.at(8000);
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['Hello']);
    // The turn gets no reply, but what the user said is not lost: it stays in the history (and the agent's context).
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${LONG}`, 'user: hey listen']);
    expect(h.agent.chatCtx.messages().map((m) => m.content.join(' ')).at(-1)).toBe('hey listen');
    await h.session.close();
  });

  it('by text: interrupt() + generateReply({ userInput }) cuts the speech and goes straight to thinking', async () => {
    const h = await startHarness({
      utterances: [hello],
      llm: [replyLong, { input: 'typed question', content: 'Typed answer.', ttft: 100, duration: 100 }],
      tts: [ttsLong, { input: 'Typed answer.', duration: 500 }],
    });
    await h.at(3000);
    expect(h.session.agentState).toBe('speaking');
    void h.session.interrupt();
    h.session.generateReply({ userInput: 'typed question' });
    await h.at(5000);
    const states = h.rec.agentStates();
    expect(states).toEqual(['listening', 'thinking', 'speaking', 'thinking', 'speaking', 'listening']);
    const hist = historyText(h.session).slice(1);
    expect(hist[0]).toBe('user: Hello');
    expect(hist[1]).toMatch(/^assistant: One two.* \[interrupted\]$/);
    expect(hist.slice(2)).toEqual(['user: typed question', 'assistant: Typed answer.']);
    await h.session.close();
  });

  it('false interruption on a pausable output: paused, then resumed, speech completes and the event fires', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 3700 /* noise: no transcript */ }],
      llm: [replyLong],
      tts: [ttsLong],
      canPause: true,
    });
    await h.at(10000);
    expect(h.output.pauseCount).toBe(1);
    const fi = h.rec.of('agent_false_interruption');
    expect(fi.map((e) => [e.resumed, e.createdAt - 1_000_000])).toEqual([[true, 3950 + 2000]]);
    // Paused 3500 → 5950 (VAD end 3950 + timeout 2000): the segment ends 2450 ms late, complete.
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    expect(h.rec.agentStates()).toEqual(['listening', 'thinking', 'speaking', 'listening', 'speaking', 'listening']);
    expect(h.stateAt('agent_state_changed', 'listening').at(-1)).toBe(6000 + 2450);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${LONG}`]);
    await h.session.close();
  });

  it('a pause becomes a real interruption when the user turns out to have said something', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 3700, transcript: 'actually no', sttDelay: 100 }],
      llm: [replyLong, { input: 'actually no', content: 'Alright.' }],
      tts: [ttsLong],
      canPause: true,
    });
    await h.at(10000);
    expect(h.rec.of('agent_false_interruption')).toHaveLength(0);
    expect(h.output.segments[0]).toMatchObject({ interrupted: true, playedMs: 1500 });
    const hist = historyText(h.session).slice(1);
    expect(hist[1]).toMatch(/\[interrupted\]$/);
    expect(hist.slice(2)).toEqual(['user: actually no', 'assistant: Alright.']);
    // The output was resumed after the cut so the next reply is not stuck paused.
    expect(h.output.segments[1]).toMatchObject({ interrupted: false });
    await h.session.close();
  });
});
