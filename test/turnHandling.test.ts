/** The turn-handling options, each through a real AgentSession on the testing kit's fakes, in virtual time. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, type UserTurnExceededContext } from '../src/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const LONG = 'One two three four five six seven eight.';
const hello = { start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 };
// Commit at 1500; reply audio plays 2000..6000 with these scripts.
const replyLong = { input: 'Hello', content: LONG, ttft: 200, duration: 400 };
const ttsLong = { input: LONG, ttfb: 100, duration: 4000 };
const userTexts = (h: { session: Parameters<typeof historyText>[0] }) => historyText(h.session).filter((l) => l.startsWith('user: '));

describe('turnHandling.aecWarmupDuration', () => {
  it('during the window from the first speech, user audio neither cuts the agent nor becomes a turn', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 4000, transcript: 'stop', sttDelay: 100 }],
      llm: [replyLong, { input: 'stop', content: 'Should not happen.' }],
      tts: [ttsLong],
      session: { turnHandling: { aecWarmupDuration: 3000 } },
    });
    await h.at(8000);
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    // The STT's words during the echo window are the agent's own: not the user's turn.
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${LONG}`]);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['Hello']);
    await h.session.close();
  });

  it('after the window, barge-in works as usual', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 5200, end: 5900, transcript: 'stop', sttDelay: 100 }],
      llm: [replyLong, { input: 'stop', content: 'OK.' }],
      tts: [ttsLong, { input: 'OK.', duration: 300 }],
      session: { turnHandling: { aecWarmupDuration: 3000 } },
    });
    await h.at(9000);
    // Window 2000..5000; VAD speech reaches minDuration at 5700: 3700 ms of the reply heard.
    expect(h.output.segments[0]).toMatchObject({ interrupted: true, playedMs: 3700 });
    expect(userTexts(h)).toEqual(['user: Hello', 'user: stop']);
    await h.session.close();
  });

  it('interrupt() still works inside the window', async () => {
    const h = await startHarness({ utterances: [hello], llm: [replyLong], tts: [ttsLong], session: { turnHandling: { aecWarmupDuration: 3000 } } });
    await h.at(3000);
    await h.session.interrupt();
    await h.at(4000);
    expect(h.output.segments[0]).toMatchObject({ interrupted: true, playedMs: 1000 });
    await h.session.close();
  });

  it('the window is the session\'s: on by default (3000 ms), and only the first speech opens it', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 4000, end: 4800, transcript: 'stop', sttDelay: 100 }],
      llm: [replyLong],
      tts: [ttsLong],
      session: { turnHandling: { aecWarmupDuration: undefined } }, // the harness turns it off; undefined: the default
    });
    await h.at(8000);
    expect(h.session.options.aecWarmupDuration).toBe(3000);
    expect(h.output.segments[0]).toMatchObject({ interrupted: false, playedMs: 4000 });
    await h.session.close();
  });
});

describe('turnHandling.endpointing.mode', () => {
  // The user pauses 900 ms inside turns: "one … two", then "three … four".
  const utterances = [
    { start: 0, end: 1000, transcript: 'one', sttDelay: 100 },
    { start: 1900, end: 2500, transcript: 'two', sttDelay: 100 },
    { start: 8000, end: 9000, transcript: 'three', sttDelay: 100 },
    { start: 9800, end: 10300, transcript: 'four', sttDelay: 100 },
  ];
  const run = async (mode: 'fixed' | 'dynamic') => {
    const h = await startHarness({ utterances, llm: [], tts: [], session: { turnHandling: { endpointing: { mode, alpha: 0.5 } } } });
    await h.at(16000);
    const out = { users: userTexts(h), thinkingAt: h.stateAt('agent_state_changed', 'thinking') };
    await h.session.close();
    return out;
  };

  it('fixed: every pause longer than minDelay ends the turn', async () => {
    const r = await run('fixed');
    expect(r.users).toEqual(['user: one', 'user: two', 'user: three', 'user: four']);
  });

  it('dynamic: the delay learns the user\'s pauses, so a later pause no longer cuts the turn', async () => {
    const r = await run('dynamic');
    // "one" is cut at 1500 (nothing learnt yet); the user resumed 400 ms after that commit: a 900 ms pause is
    // learnt. Then "three" waits 900 ms, the user resumes after 800 (learnt: 0.5·900 + 0.5·800 = 850), and the
    // turn "three four" commits at 10300 + 850.
    expect(r.users).toEqual(['user: one', 'user: two', 'user: three four']);
    expect(r.thinkingAt.at(-1)).toBe(10300 + 850);
  });
});

describe('preemptiveGeneration options', () => {
  const quick = { input: 'Hello', content: 'Hi!', ttft: 100, duration: 200 };
  const speakingAt = async (preemptiveGeneration: unknown, minDelay = 500) => {
    const h = await startHarness({
      utterances: [hello],
      llm: [quick],
      tts: [{ input: 'Hi!', ttfb: 300, duration: 500 }],
      session: { preemptiveGeneration: preemptiveGeneration as never, turnHandling: { endpointing: { minDelay } } },
    });
    await h.at(6000);
    const at = h.stateAt('agent_state_changed', 'speaking');
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', 'assistant: Hi!']);
    await h.session.close();
    return at;
  };

  it('true keeps working: the LLM runs during the endpointing delay, the TTS after the commit', async () => {
    // Final 1100; LLM done 1300; commit 1500; TTS from 1500: audio at 1800.
    expect(await speakingAt(true)).toEqual([1800]);
    // Off: the LLM starts at the commit (done 1700), the TTS after it.
    expect(await speakingAt(false)).toEqual([1500 + 200 + 300]);
  });

  it('preemptiveTts: the audio is synthesised before the commit and plays at the commit, never before', async () => {
    // LLM done 1300, audio ready 1600: it plays as soon as it exists (the commit at 1500 came first).
    expect(await speakingAt({ enabled: true, preemptiveTts: true })).toEqual([1600]);
    // A long endpointing delay: the audio is ready at 1600 but plays only at the commit, 1000 + 2000.
    expect(await speakingAt({ preemptiveTts: true }, 2000)).toEqual([3000]);
  });

  it('maxSpeechDuration: no speculation on user speech longer than that', async () => {
    // The user spoke 1000 ms: over 800, no speculation; within 1200, speculation as with `true`.
    expect(await speakingAt({ enabled: true, maxSpeechDuration: 800 })).toEqual([1500 + 200 + 300]);
    expect(await speakingAt({ enabled: true, maxSpeechDuration: 1200 })).toEqual([1800]);
  });
});

describe('per-state interruption rules', () => {
  it('speaking.minDuration: a cough shorter than it does not cut the speech; the top level still applies while thinking', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 4000 /* noise */ }],
      llm: [replyLong],
      tts: [ttsLong],
      session: { turnHandling: { interruption: { speaking: { minDuration: 1500 } } } },
    });
    await h.at(8000);
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    expect(h.session.options.speakingInterruption).toEqual({ minDuration: 1500 });
    await h.session.close();
  });

  it('thinking.enabled false: noise while the reply is prepared no longer cancels it', async () => {
    const slow = { input: 'Hello', content: 'Hi there.', ttft: 200, duration: 1000 };
    const run = async (thinking?: { enabled: boolean }) => {
      const h = await startHarness({
        utterances: [hello, { start: 1700, end: 2600 /* noise */ }],
        llm: [slow],
        tts: [{ input: 'Hi there.', duration: 500 }],
        session: { turnHandling: { interruption: { thinking } } },
      });
      await h.at(6000);
      const heard = h.output.segments.map((s) => s.playedMs);
      await h.session.close();
      return heard;
    };
    expect(await run()).toEqual([]); // cut at 2200 (500 ms of VAD speech) before any audio
    expect(await run({ enabled: false })).toEqual([500]);
  });
});

describe('interruption.backchannel', () => {
  it('"mhm" while the agent speaks neither interrupts nor is answered (nor kept)', async () => {
    const run = async (enabled: boolean) => {
      const h = await startHarness({
        utterances: [hello, { start: 3000, end: 3300, transcript: 'Mhm.', sttDelay: 100 }],
        llm: [replyLong, { input: 'Mhm.', content: 'Yes?' }],
        tts: [ttsLong, { input: 'Yes?', duration: 300 }],
        session: { turnHandling: { interruption: { backchannel: { enabled } } } },
      });
      await h.at(8000);
      const r = { segments: h.output.segments.map((s) => [s.interrupted, s.playedMs]), users: userTexts(h), keys: h.llm.requests.map((q) => q.key) };
      // Still transcribed for the application.
      expect(h.rec.of('user_input_transcribed').map((e) => e.transcript)).toContain('Mhm.');
      await h.session.close();
      return r;
    };
    expect(await run(true)).toEqual({ segments: [[false, 4000]], users: ['user: Hello'], keys: ['Hello'] });
    // Without the filter the final transcript (3400) cuts the speech and "Mhm." is answered.
    expect(await run(false)).toEqual({ segments: [[true, 1400], [false, 300]], users: ['user: Hello', 'user: Mhm.'], keys: ['Hello', 'Mhm.'] });
  });

  it('a speech that audio paused resumes at once when the words turn out to be backchannel', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 3700, transcript: 'uh-huh, okay', sttDelay: 100 }],
      llm: [replyLong],
      tts: [ttsLong],
      canPause: true,
    });
    await h.at(10000);
    expect(h.output.pauseCount).toBe(1);
    // Paused at 3500 (VAD), resumed at the final (3800): the speech ends 300 ms late, whole.
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 4000 })]);
    expect(h.stateAt('agent_state_changed', 'listening').at(-1)).toBe(6300);
    expect(h.rec.of('agent_false_interruption')).toHaveLength(0);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', `assistant: ${LONG}`]);
    await h.session.close();
  });

  it('custom phrases by language replace the default list', async () => {
    const h = await startHarness({
      utterances: [hello, { start: 3000, end: 3300, transcript: 'okay', sttDelay: 100 }],
      llm: [replyLong, { input: 'okay', content: 'Fine.' }],
      tts: [ttsLong, { input: 'Fine.', duration: 300 }],
      session: { turnHandling: { interruption: { backchannel: { phrases: { fr: ['ouais', "d'accord"] } } } } },
    });
    await h.at(8000);
    expect(h.output.segments[0]).toMatchObject({ interrupted: true });
    expect(userTexts(h)).toEqual(['user: Hello', 'user: okay']);
    await h.session.close();
  });
});

describe('userTurnLimit and Agent.onUserTurnExceeded', () => {
  class Limited extends Agent {
    calls: Array<UserTurnExceededContext & { at: number }> = [];
    override onUserTurnExceeded(ctx: UserTurnExceededContext) {
      this.calls.push({ ...ctx, at: Date.now() });
    }
  }

  it('maxDuration: the hook runs once, while the user is still talking', async () => {
    const agent = new Limited({ instructions: 'x' });
    const h = await startHarness({
      utterances: [{ start: 0, end: 5000, transcript: 'a very long story', sttDelay: 100 }],
      llm: [],
      agent,
      session: { turnHandling: { userTurnLimit: { maxDuration: 2000 } } },
    });
    await h.at(8000);
    expect(agent.calls).toHaveLength(1);
    expect(agent.calls[0]).toMatchObject({ reason: 'maxDuration', durationMs: 2000 });
    expect(agent.calls[0]!.at - (Date.now() - h.now())).toBe(2000);
    expect(agent.calls[0]!.chatCtx.messages().map((m) => m.role)).toEqual(['system']);
    await h.session.close();
  });

  it('maxWords: more words than the limit in one turn; a turn within it does not', async () => {
    const agent = new Limited({ instructions: 'x' });
    const h = await startHarness({
      utterances: [
        { start: 0, end: 1000, transcript: 'short one', sttDelay: 100 },
        { start: 4000, end: 6000, transcript: 'one two three four five six', sttDelay: 100 },
      ],
      llm: [],
      agent,
      session: { turnHandling: { userTurnLimit: { maxWords: 5 } } },
    });
    await h.at(9000);
    expect(agent.calls.map((c) => [c.reason, c.words, c.transcript])).toEqual([['maxWords', 6, 'one two three four five six']]);
    await h.session.close();
  });
});

describe('Agent turnHandling overrides', () => {
  it("the agent's values override the session's while it is active, key by key", async () => {
    const agent = new Agent({ instructions: 'x', turnHandling: { endpointing: { minDelay: 1500 } } });
    const h = await startHarness({
      utterances: [hello],
      llm: [{ input: 'Hello', content: 'Hi.' }],
      agent,
      session: { turnHandling: { endpointing: { maxDelay: 4000 } } },
    });
    await h.at(5000);
    expect(h.stateAt('agent_state_changed', 'thinking')).toEqual([2500]);
    expect(h.session.options.minEndpointingDelay).toBe(500);
    await h.session.close();
  });

  it('bad agent values are rejected when the agent is made', () => {
    expect(() => new Agent({ instructions: 'x', turnHandling: { endpointing: { mode: 'sometimes' as never } } })).toThrow(/endpointing.mode/);
    expect(() => new Agent({ instructions: 'x', turnHandling: { aecWarmupDuration: -1 } })).toThrow(/aecWarmupDuration/);
  });
});
