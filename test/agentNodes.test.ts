import { map, Observable, of } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Agent,
  AudioFrame,
  FlushSentinel,
  type ChatChunk,
  type ChatContext,
  type FunctionTool,
  type ModelSettings,
  type NodeStream,
  type SpeechEvent,
} from '../src/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const ask = [{ start: 0, end: 500, transcript: 'Hi' }];
const assistantTexts = (h: Awaited<ReturnType<typeof startHarness>>) =>
  h.session.history.messages().filter((m) => m.role === 'assistant').map((m) => m.content.join(' '));

/** An agent whose llmNode is `fn` (the tests' way to script a node without a class per case). */
function agentWith(nodes: Partial<Pick<Agent, 'llmNode' | 'ttsNode' | 'transcriptionNode' | 'sttNode'>>): Agent {
  class Custom extends Agent {
    constructor() {
      super({ instructions: 'test' });
    }
  }
  const a = new Custom();
  Object.assign(a, nodes);
  return a;
}

describe('llmNode', () => {
  it('a string is the reply: spoken, shown and recorded; the LLM is never called', async () => {
    const h = await startHarness({ utterances: ask, agent: agentWith({ llmNode: () => 'Hello from the node.' }) });
    await h.at(5000);
    expect(h.llm.requests).toHaveLength(0);
    expect(h.tts.inputs).toEqual(['Hello from the node.']);
    expect(assistantTexts(h)).toEqual(['Hello from the node.']);
    expect(h.text.segments).toEqual(['Hello from the node.']);
    await h.session.close();
  });

  it('a stream (AsyncIterable or Observable) of text and chunks is the reply', async () => {
    async function* words() {
      yield 'One, ';
      await new Promise((r) => setTimeout(r, 200));
      yield { id: 'c1', delta: { content: 'two, ' } } satisfies ChatChunk;
      yield 'three.';
    }
    const h = await startHarness({ utterances: ask, agent: agentWith({ llmNode: () => words() }) });
    await h.at(5000);
    expect(assistantTexts(h)).toEqual(['One, two, three.']);
    const h2 = await startHarness({ utterances: ask, agent: agentWith({ llmNode: () => of('Four ', 'five.') }) });
    await h2.at(5000);
    expect(assistantTexts(h2)).toEqual(['Four five.']);
    await h.session.close();
    await h2.session.close();
  });

  it('nothing (null or undefined) means no reply: no audio, no message, the agent listens again', async () => {
    for (const nothing of [null, undefined]) {
      const h = await startHarness({ utterances: ask, agent: agentWith({ llmNode: () => nothing }) });
      await h.at(5000);
      expect(h.output.segments).toEqual([]);
      expect(assistantTexts(h)).toEqual([]);
      expect(historyText(h.session).slice(1)).toEqual(['user: Hi']);
      expect(h.session.agentState).toBe('listening');
      await h.session.close();
    }
  });

  it('an override reuses the default (super.llmNode and Agent.default.llmNode) and sees the tools and settings', async () => {
    const seen: Array<{ tools: string[]; settings: ModelSettings }> = [];
    class Shouting extends Agent {
      constructor() {
        super({ instructions: 'shout' });
      }
      override llmNode(chatCtx: ChatContext, tools: readonly FunctionTool[], settings: ModelSettings) {
        seen.push({ tools: tools.map((t) => t.name), settings });
        const chunks = super.llmNode(chatCtx, tools, settings) as Observable<ChatChunk>;
        return chunks.pipe(map((c) => (c.delta?.content ? { ...c, delta: { ...c.delta, content: c.delta.content.toUpperCase() } } : c)));
      }
    }
    const h = await startHarness({ utterances: ask, agent: new Shouting(), llm: [{ input: 'Hi', content: 'hello there', ttft: 100, duration: 200 }] });
    await h.at(5000);
    expect(h.llm.requests).toHaveLength(1);
    expect(assistantTexts(h)).toEqual(['HELLO THERE']);
    expect(seen).toEqual([{ tools: [], settings: { toolChoice: 'auto' } }]);
    await h.session.close();

    class ViaDefault extends Agent {
      constructor() {
        super({ instructions: 'plain' });
      }
      override async llmNode(chatCtx: ChatContext, tools: readonly FunctionTool[], settings: ModelSettings) {
        await new Promise((r) => setTimeout(r, 50)); // the default is still in reach after an await
        return Agent.default.llmNode(this, chatCtx, tools, settings);
      }
    }
    const h2 = await startHarness({ utterances: ask, agent: new ViaDefault(), llm: [{ input: 'Hi', content: 'plain answer', ttft: 100, duration: 200 }] });
    await h2.at(5000);
    expect(assistantTexts(h2)).toEqual(['plain answer']);
    await h2.session.close();
  });

  it('a throwing llmNode is reported and gives no reply; the session keeps running', async () => {
    const h = await startHarness({
      utterances: [...ask, { start: 4000, end: 4500, transcript: 'again' }],
      agent: agentWith({
        llmNode: (ctx: ChatContext) => {
          const last = ctx.messages().at(-1)!.content.join('');
          if (last === 'Hi') throw new Error('node broke');
          return 'Fine now.';
        },
      }),
    });
    await h.at(8000);
    expect(h.rec.of('error').map((e) => e.error.message)).toContain('node broke');
    expect(assistantTexts(h)).toEqual(['Fine now.']);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });

  it('the default node called outside the pipeline says so', () => {
    const a = new Agent({ instructions: 'x' });
    expect(() => a.llmNode({} as ChatContext, [], {})).toThrow(/only inside the agent's pipeline/);
  });
});

describe('FlushSentinel: one reply, several spoken segments', () => {
  async function* twoParts() {
    yield 'First part.';
    yield new FlushSentinel();
    yield 'Second part has quite a few more words in it.';
  }

  it('each segment is its own TTS request, audio segment and history message', async () => {
    const h = await startHarness({
      utterances: ask,
      agent: agentWith({ llmNode: () => twoParts() }),
      tts: [{ input: 'First part.', duration: 1000 }, { input: 'Second part has quite a few more words in it.', duration: 2000 }],
    });
    await h.at(8000);
    expect(h.tts.inputs).toEqual(['First part.', 'Second part has quite a few more words in it.']);
    expect(h.output.segments.map((s) => [s.playedMs, s.interrupted])).toEqual([[1000, false], [2000, false]]);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hi', 'assistant: First part.', 'assistant: Second part has quite a few more words in it.']);
    // One speech: the segments are steps of one reply, not separate speeches.
    expect(h.rec.of('speech_created')).toHaveLength(1);
    await h.session.close();
  });

  it('an interruption in segment 2 keeps segment 1 whole and segment 2 cut at what was heard; no later segment plays', async () => {
    async function* threeParts() {
      yield* twoParts();
      yield new FlushSentinel();
      yield 'Third part never plays.';
    }
    // Commit ≈ 1000, segment 1 plays 1000–2000, segment 2 from 2000; the user barges in at 2500 (+500 ms minDuration).
    const h = await startHarness({
      utterances: [...ask, { start: 2500, end: 3500, transcript: 'wait' }],
      agent: agentWith({ llmNode: (ctx: ChatContext) => (ctx.messages().at(-1)!.content.join('') === 'Hi' ? threeParts() : 'Yes?') }),
      tts: [
        { input: 'First part.', duration: 1000 },
        { input: 'Second part has quite a few more words in it.', duration: 4000 },
        { input: 'Yes?', duration: 300 },
      ],
    });
    await h.at(10000);
    expect(h.output.segments[0]).toMatchObject({ interrupted: false, playedMs: 1000 });
    expect(h.output.segments[1]!.interrupted).toBe(true);
    expect(h.output.segments[1]!.playedMs).toBeLessThan(4000);
    expect(h.tts.inputs).not.toContain('Third part never plays.');
    const msgs = h.session.history.messages().filter((m) => m.role === 'assistant');
    expect(msgs[0]).toMatchObject({ content: ['First part.'], interrupted: false });
    const cut = msgs[1]!;
    expect(cut.interrupted).toBe(true);
    const heard = cut.content.join(' ');
    expect(heard.length).toBeGreaterThan(0);
    expect('Second part has quite a few more words in it.'.startsWith(heard)).toBe(true);
    expect(heard).not.toBe('Second part has quite a few more words in it.');
    expect(msgs.map((m) => m.content.join(' '))).not.toContain('Third part never plays.');
    expect(historyText(h.session).at(-1)).toBe('assistant: Yes?');
    await h.session.close();
  });
});

describe('ttsNode', () => {
  it('nothing: no audio is spoken, the text still goes to the transcript and the history', async () => {
    const h = await startHarness({ utterances: ask, llm: [{ input: 'Hi', content: 'Silent words.' }], agent: agentWith({ ttsNode: () => null }) });
    await h.at(5000);
    expect(h.output.segments).toEqual([]);
    expect(h.tts.inputs).toEqual([]);
    expect(h.text.segments).toEqual(['Silent words.']);
    expect(assistantTexts(h)).toEqual(['Silent words.']);
    await h.session.close();
  });

  it('an override reuses the default on changed text (super.ttsNode), or makes its own frames', async () => {
    class Spelled extends Agent {
      constructor() {
        super({ instructions: 'spell' });
      }
      override ttsNode(text$: NodeStream<string>, s: ModelSettings) {
        return super.ttsNode(text$.pipe(map((t) => t.replace('Dr.', 'Doctor'))) as NodeStream<string>, s);
      }
    }
    const h = await startHarness({ utterances: ask, llm: [{ input: 'Hi', content: 'Dr. Who.' }], agent: new Spelled(), tts: [{ input: 'Doctor Who.', duration: 700 }] });
    await h.at(5000);
    expect(h.tts.inputs).toEqual(['Doctor Who.']);
    expect(h.output.segments.map((s) => s.playedMs)).toEqual([700]);
    // The transcript and the history keep the text as the LLM wrote it.
    expect(assistantTexts(h)).toEqual(['Dr. Who.']);
    await h.session.close();

    async function* beep(text$: NodeStream<string>) {
      let text = '';
      for await (const t of text$) text += t;
      for (let i = 0; i < text.length; i++) yield new AudioFrame(new Int16Array(480), 24000, 1, 480); // 20 ms a char
    }
    const h2 = await startHarness({ utterances: ask, llm: [{ input: 'Hi', content: 'Beep.' }], agent: agentWith({ ttsNode: (t$: NodeStream<string>) => beep(t$) }) });
    await h2.at(5000);
    expect(h2.tts.inputs).toEqual([]);
    expect(h2.output.segments.map((s) => s.playedMs)).toEqual([100]);
    expect(assistantTexts(h2)).toEqual(['Beep.']);
    await h2.session.close();
  });

  it('say() goes through the ttsNode too', async () => {
    const h = await startHarness({ agent: agentWith({ ttsNode: () => undefined }) });
    await h.session.say('Hello there.').waitForPlayout();
    expect(h.output.segments).toEqual([]);
    expect(h.text.segments).toEqual(['Hello there.']);
    expect(assistantTexts(h)).toEqual(['Hello there.']);
    await h.session.close();
  });
});

describe('transcriptionNode', () => {
  it('a changed stream is what the transcript shows and what the history keeps', async () => {
    const h = await startHarness({
      utterances: ask,
      llm: [{ input: 'Hi', content: 'Call 555 1234 now.' }],
      agent: agentWith({ transcriptionNode: (t$: NodeStream<string>) => t$.pipe(map((t) => t.replace(/\d/g, '#'))) }),
    });
    await h.at(6000);
    expect(h.tts.inputs).toEqual(['Call 555 1234 now.']);
    expect(h.text.segments).toEqual(['Call ### #### now.']);
    expect(assistantTexts(h)).toEqual(['Call ### #### now.']);
    await h.session.close();
  });

  it('a string replaces the transcript; nothing shows none while audio and history keep the text', async () => {
    const h = await startHarness({ utterances: ask, llm: [{ input: 'Hi', content: 'Secret.' }], agent: agentWith({ transcriptionNode: () => '[redacted]' }) });
    await h.at(5000);
    expect(h.text.segments).toEqual(['[redacted]']);
    await h.session.close();
    const h2 = await startHarness({ utterances: ask, llm: [{ input: 'Hi', content: 'Quiet.' }], agent: agentWith({ transcriptionNode: () => null }) });
    await h2.at(5000);
    expect(h2.text.chunks).toEqual([]);
    expect(h2.output.segments).toHaveLength(1);
    expect(assistantTexts(h2)).toEqual(['Quiet.']);
    await h2.session.close();
  });
});

describe('sttNode', () => {
  it('an override reuses the default and rewrites what was heard', async () => {
    class Lower extends Agent {
      constructor() {
        super({ instructions: 'stt' });
      }
      override sttNode(audio$: NodeStream<AudioFrame>, s: ModelSettings) {
        const events = super.sttNode(audio$, s) as Observable<SpeechEvent>;
        return events.pipe(map((e) => (e.alternatives ? { ...e, alternatives: e.alternatives.map((a) => ({ ...a, text: `${a.text} (heard)` })) } : e)));
      }
    }
    const h = await startHarness({ utterances: ask, agent: new Lower(), llm: [{ input: 'Hi (heard)', content: 'Got it.' }] });
    await h.at(5000);
    expect(historyText(h.session).slice(1)).toEqual(['user: Hi (heard)', 'assistant: Got it.']);
    await h.session.close();
  });

  it('nothing: the user is not transcribed (no turn, no reply), and the STT is not restarted in a loop', async () => {
    const h = await startHarness({ utterances: ask, agent: agentWith({ sttNode: () => null }), llm: [{ input: 'Hi', content: 'Never.' }] });
    await h.at(5000);
    expect(h.llm.requests).toHaveLength(0);
    expect(historyText(h.session).slice(1)).toEqual([]);
    expect(h.rec.of('error')).toEqual([]);
    await h.session.close();
  });
});
