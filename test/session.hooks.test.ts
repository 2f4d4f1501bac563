import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, ChatContext, StopResponse, type ChatMessage } from '../src/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

describe('hooks and speech API', () => {
  it('onEnter: say() and generateReply() speak in order when the agent starts', async () => {
    class Greeter extends Agent {
      constructor() {
        super({ instructions: 'greet' });
      }
      override onEnter() {
        this.session.say('Welcome!');
        this.session.generateReply({ instructions: 'ask how to help' });
      }
    }
    const h = await startHarness({
      agent: new Greeter(),
      llm: [{ input: '', content: 'How can I help?', ttft: 100, duration: 100 }],
      tts: [{ input: 'Welcome!', duration: 600 }, { input: 'How can I help?', duration: 900 }],
    });
    await h.at(3000);
    expect(historyText(h.session).slice(1)).toEqual(['assistant: Welcome!', 'assistant: How can I help?']);
    expect(h.rec.of('speech_created').map((e) => e.source)).toEqual(['say', 'generate_reply']);
    expect(h.output.segments.map((s) => s.startedAt - 1_000_000)).toEqual([0, 600]);
    await h.session.close();
  });

  it('onUserTurnCompleted: edits the reply context, can say() first, and StopResponse skips the reply', async () => {
    const seen: string[] = [];
    class Careful extends Agent {
      constructor() {
        super({ instructions: 'careful' });
      }
      override onUserTurnCompleted(turnCtx: ChatContext, msg: ChatMessage) {
        seen.push(msg.content.join(' '));
        if (msg.content[0] === 'shh') throw new StopResponse();
        this.session.say('One moment.');
        turnCtx.addMessage('system', 'extra context for this reply only');
      }
    }
    const h = await startHarness({
      agent: new Careful(),
      utterances: [
        { start: 0, end: 500, transcript: 'question' },
        { start: 5000, end: 5500, transcript: 'shh' },
      ],
      llm: [{ input: 'question', content: 'Answer.', ttft: 100, duration: 100 }],
      tts: [{ input: 'One moment.', duration: 500 }, { input: 'Answer.', duration: 500 }],
    });
    await h.at(9000);
    expect(seen).toEqual(['question', 'shh']);
    expect(historyText(h.session).slice(1)).toEqual(['user: question', 'assistant: One moment.', 'assistant: Answer.', 'user: shh']);
    // The extra system message reached the LLM but not the agent's lasting context.
    expect(h.session.currentAgent.chatCtx.items.some((i) => i.type === 'message' && i.content[0] === 'extra context for this reply only')).toBe(false);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['question']);
    await h.session.close();
  });

  it('say() with addToChatCtx false speaks without a history entry; allowInterruptions false resists barge-in', async () => {
    const h = await startHarness({
      utterances: [{ start: 500, end: 1500 }],
      tts: [{ input: 'Please hold.', duration: 2000 }],
    });
    const handle = h.session.say('Please hold.', { addToChatCtx: false, allowInterruptions: false });
    expect(() => handle.interrupt()).toThrow(/does not allow interruptions/);
    await h.at(3000);
    expect(h.output.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: 2000 })]);
    expect(historyText(h.session).slice(1)).toEqual([]);
    expect(handle.done()).toBe(true);
    await handle.waitForPlayout();
    await h.session.close();
  });

  it('preemptive generation starts the LLM at the final transcript and cuts latency', async () => {
    const run = async (preemptiveGeneration: boolean) => {
      const h = await startHarness({
        utterances: [{ start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 }],
        llm: [{ input: 'Hello', content: 'Hi!', ttft: 200, duration: 400 }],
        tts: [{ input: 'Hi!', ttfb: 100, duration: 500 }],
        session: { preemptiveGeneration },
      });
      await h.at(3000);
      const speaking = h.stateAt('agent_state_changed', 'speaking')[0];
      const items = historyText(h.session).slice(1);
      await h.session.close();
      return { speaking, items };
    };
    const off = await run(false);
    const on = await run(true);
    // off: commit 1500 + LLM 400 + TTS 100. on: LLM from the final at 1100 → 1500, then TTS 100.
    expect(off.speaking).toBe(2000);
    expect(on.speaking).toBe(1600);
    expect(on.items).toEqual(off.items);
  });

  it('preemptive generation is discarded when the transcript changes before the commit', async () => {
    const h = await startHarness({
      utterances: [
        { start: 0, end: 500, transcript: 'book a', sttDelay: 50 },
        { start: 800, end: 1200, transcript: 'table', sttDelay: 50 },
      ],
      llm: [
        { input: 'book a', content: 'Wrong.', ttft: 100, duration: 100 },
        { input: 'book a table', content: 'Right.', ttft: 100, duration: 100 },
      ],
      session: { preemptiveGeneration: true },
    });
    await h.at(5000);
    expect(historyText(h.session).slice(1)).toEqual(['user: book a table', 'assistant: Right.']);
    expect(h.tts.inputs).toEqual(['Right.']);
    await h.session.close();
  });

  it('user away: after userAwayTimeout of mutual silence the user is away; speech brings them back', async () => {
    const h = await startHarness({ utterances: [{ start: 7000, end: 7500 }], session: { userAwayTimeout: 5000 } });
    await h.at(8000);
    expect(h.rec.of('user_state_changed').map((e) => [e.newState, e.createdAt - 1_000_000])).toEqual([
      ['away', 5000],
      ['speaking', 7000],
      ['listening', 7500],
    ]);
    await h.session.close();
  });

  it('user away is not armed while a speech plays, and null disables it', async () => {
    const h = await startHarness({ tts: [{ input: 'Long talk.', duration: 8000 }], session: { userAwayTimeout: 5000 } });
    h.session.say('Long talk.');
    await h.at(12000);
    expect(h.stateAt('user_state_changed', 'away')).toEqual([8000 + 5000].filter((t) => t <= 12000));
    await h.session.close();
    const h2 = await startHarness({ session: { userAwayTimeout: null } });
    await vi.advanceTimersByTimeAsync(60000);
    expect(h2.rec.userStates()).toEqual([]);
    await h2.session.close();
  });

  it('minConsecutiveSpeechDelay keeps a gap between speeches', async () => {
    const h = await startHarness({ tts: [{ input: 'First.', duration: 500 }, { input: 'Second.', duration: 500 }], session: { minConsecutiveSpeechDelay: 1200 } });
    h.session.say('First.');
    h.session.say('Second.');
    await h.at(4000);
    expect(h.output.segments.map((s) => s.startedAt - 1_000_000)).toEqual([0, 1700]);
    await h.session.close();
  });
});

describe('say() inputs', () => {
  it('accepts an async iterable of text chunks (consumed once) and speaks all of it', async () => {
    const h = await startHarness({ tts: [{ input: 'Streaming words arrive one by one.', duration: 1000 }] });
    let pulls = 0;
    async function* words() {
      for (const w of ['Streaming ', 'words ', 'arrive ', 'one by one.']) {
        pulls++;
        await new Promise((r) => setTimeout(r, 10));
        yield w;
      }
    }
    const handle = h.session.say(words());
    await h.at(3000);
    expect(handle.done()).toBe(true);
    expect(pulls).toBe(4);
    expect(h.tts.inputs).toEqual(['Streaming words arrive one by one.']);
    expect(historyText(h.session).slice(1)).toEqual(['assistant: Streaming words arrive one by one.']);
    await h.session.close();
  });
});
