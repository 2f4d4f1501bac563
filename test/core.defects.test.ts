/**
 * Regression tests for the core defects of issue 8, part 1 (chat context, two speeches at once, lost user turns,
 * talking over the user, unheard words). Each failed on the core before the actor-tree rewrite.
 */
import { Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, AudioFrame, type ChatMessage, type SynthesizedAudio, type TTS } from '../src/index.ts';
import { FakeTTS } from '../src/testing/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const said = (items: readonly unknown[]) =>
  (items as Array<{ type: string; role?: string; content?: string[]; interrupted?: boolean }>)
    .filter((i) => i.type === 'message')
    .map((i) => `${i.role}: ${i.content!.join(' ')}${i.interrupted ? ' [interrupted]' : ''}`);

describe('1. the LLM sees its own earlier replies', () => {
  it("the second turn's request holds the first reply, and an interrupted reply only as far as it was heard", async () => {
    const h = await startHarness({
      utterances: [
        { start: 0, end: 1000, transcript: 'Hello' },
        { start: 4000, end: 4500, transcript: 'Tell me a story' },
        { start: 6500, end: 7500, transcript: 'Stop there' },
      ],
      llm: [
        { input: 'Hello', content: 'Hi there!' },
        { input: 'Tell me a story', content: 'Once upon a time there was a very long story about many things.' },
        { input: 'Stop there', content: 'Okay.' },
      ],
      tts: [{ input: 'Hi there!', duration: 1000 }, { input: 'Once upon a time there was a very long story about many things.', duration: 4000 }],
    });
    await h.at(12000);
    const [, second, third] = h.llm.requests;
    expect(said(second!.items)).toEqual(['system: You are a test agent.', 'user: Hello', 'assistant: Hi there!', 'user: Tell me a story']);
    const heard = said(third!.items).find((m) => m.startsWith('assistant: Once'))!;
    expect(heard).toMatch(/^assistant: Once upon .* \[interrupted\]$/);
    expect(heard).not.toContain('many things');
    // The agent's own context records the handoff that started it, too.
    expect(h.agent.chatCtx.items.some((i) => i.type === 'agent_handoff')).toBe(true);
    await h.session.close();
  });
});

describe('2. one speech at a time', () => {
  it('a say() queued while a paused speech holds the output is not authorised until that speech ends', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Hello' }, { start: 3000, end: 3700 }],
      llm: [{ input: 'Hello', content: 'A long answer that keeps going.' }],
      tts: [{ input: 'A long answer that keeps going.', duration: 4000 }, { input: 'Second.', duration: 500 }],
      canPause: true,
    });
    await h.at(3600); // the user's noise paused the reply (false-interruption pause)
    expect(h.output.paused).toBe(true);
    const first = h.session.currentSpeech!;
    const second = h.session.say('Second.');
    await h.at(3700);
    const act = (h.session as any).activity;
    expect(act.actor.getSnapshot().value.scheduler).toBe('authorized');
    expect(act.actor.getSnapshot().context.current).toBe(first.id);
    expect(second.isAuthorized()).toBe(false);
    await h.at(12000);
    // Two segments, one after the other; never two at once.
    expect(h.output.segments).toHaveLength(2);
    const [a, b] = h.output.segments;
    expect(b!.startedAt).toBeGreaterThanOrEqual(a!.startedAt + a!.playedMs);
    expect(h.session.agentState).toBe('listening');
    await h.session.close();
  });
});

describe('3. no lost user turn', () => {
  class Billing extends Agent {
    constructor() {
      super({ instructions: 'billing', id: 'billing' });
    }
  }

  it('a transcript that is final but not yet committed when the handoff completes reaches the new agent', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'I need billing' }],
      llm: [{ input: 'I need billing', content: 'Billing here, how can I help?' }],
    });
    await h.at(1100); // the final transcript arrived at 1000; the commit would be at 1500
    h.session.updateAgent(new Billing());
    await h.at(5000);
    expect(h.session.currentAgent).toBeInstanceOf(Billing);
    expect(historyText(h.session).slice(1)).toEqual(['handoff default_agent -> billing', 'user: I need billing', 'assistant: Billing here, how can I help?']);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['I need billing']);
    expect(said(h.llm.requests[0]!.items)[0]).toBe('system: billing');
    await h.session.close();
  });

  it('a turn whose onUserTurnCompleted is still running when a handoff starts is answered by the new agent, not refused', async () => {
    class Slow extends Agent {
      constructor() {
        super({ instructions: 'slow' });
      }
      override async onUserTurnCompleted(): Promise<void> {
        await new Promise((r) => setTimeout(r, 400));
      }
    }
    const h = await startHarness({
      agent: new Slow(),
      utterances: [{ start: 0, end: 1000, transcript: 'my invoice' }],
      llm: [{ input: 'my invoice', content: 'Let me look.' }],
    });
    await h.at(1600); // committed at 1500; the hook runs until 1900
    h.session.updateAgent(new Billing());
    await h.at(5000);
    expect(h.rec.of('error').map((e) => e.error.message)).toEqual([]);
    // The fenced turn is taken over by the billing agent once it is active (as any turn that ends in the fence).
    expect(historyText(h.session).slice(1)).toEqual(['handoff slow -> billing', 'user: my invoice', 'assistant: Let me look.']);
    expect(h.llm.requests).toHaveLength(1);
    expect(said(h.llm.requests[0]!.items)[0]).toBe('system: billing');
    await h.session.close();
  });
});

describe('4. never talking over the user', () => {
  it('a reply authorised before the user began waits until the user stops', async () => {
    const h = await startHarness({
      // The reply's audio is ready at 2000; the user coughs 1800..2100 (VAD end reported 250 ms later).
      utterances: [{ start: 0, end: 1000, transcript: 'Hello' }, { start: 1800, end: 2100 }],
      llm: [{ input: 'Hello', content: 'Hi there!', ttft: 100, duration: 100 }],
      tts: [{ input: 'Hi there!', ttfb: 400, duration: 1000 }],
    });
    await h.at(5000);
    expect(h.output.segments).toHaveLength(1);
    const userSilentAt = h.stateAt('user_state_changed', 'listening').at(-1)! ;
    expect(h.output.segments[0]!.startedAt - (Date.now() - 5000)).toBeGreaterThanOrEqual(2350);
    expect(userSilentAt).toBe(2100); // back-dated to the real end of speech
    const speaking = h.rec.of('agent_state_changed').filter((e) => e.newState === 'speaking');
    expect(speaking).toHaveLength(1);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', 'assistant: Hi there!']);
    await h.session.close();
  });

  it('the waiting reply is dropped when the user speech becomes an interruption with a new turn', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Hello' }, { start: 1800, end: 3000, transcript: 'Actually wait' }],
      llm: [
        { input: 'Hello', content: 'Hi there!', ttft: 100, duration: 100 },
        { input: 'Actually wait', content: 'Sure.' },
      ],
      tts: [{ input: 'Hi there!', ttfb: 400, duration: 1000 }, { input: 'Sure.', duration: 500 }],
    });
    await h.at(8000);
    expect(h.tts.inputs).toContain('Hi there!');
    expect(h.output.segments.map((s) => s.pushedMs)).toEqual([500]);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hello', 'user: Actually wait', 'assistant: Sure.']);
    await h.session.close();
  });
});

/** A streaming TTS that produces `audioMs` of audio and then fails. */
function failingHalfway(audioMs: number): TTS {
  const fake = new FakeTTS();
  return {
    label: 'half-tts',
    sampleRate: 24000,
    numChannels: 1,
    capabilities: { streaming: true, alignedTranscript: false },
    synthesize: (t: string) => fake.synthesize(t),
    stream: (text$: Observable<string>) =>
      new Observable<SynthesizedAudio>((sub) => {
        const s = text$.subscribe({
          complete: () => {
            for (let ms = 0; ms < audioMs; ms += 20) sub.next({ frame: AudioFrame.silence(24000, 1, 20) });
            sub.error(new Error('synthesis died'));
          },
        });
        return () => s.unsubscribe();
      }),
  };
}

describe('5. the history never holds words that were not heard', () => {
  it('a TTS that fails half-way keeps only the words its audio reached (a word counts once its middle played)', async () => {
    const text = 'One two three four five six seven eight nine ten.';
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'count' }],
      llm: [{ input: 'count', content: text }],
    });
    (h.session as any).activity.tts = failingHalfway(400);
    await h.at(5000);
    const reply = h.session.history.messages().find((m) => m.role === 'assistant') as ChatMessage | undefined;
    // 400 ms at the standard rate (3.83 syllables/s) reaches only the middle of "One" (2 vowel groups: 261 ms);
    // "two" would need 653 ms. The proportional mapping (all the text over the partial audio) would keep every word.
    expect(reply?.content.join(' ')).toBe('One');
    expect(reply?.interrupted).toBe(true);
    expect(h.rec.of('error').map((e) => [e.source, e.error.message])).toEqual([['tts', 'synthesis died']]);
    await h.session.close();
  });
});
