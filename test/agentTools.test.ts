import fc from 'fast-check';
import { createActor } from 'xstate';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { offeredToolNames, speechMachine } from '../machines/speech.ts';
import { Agent, ChatContext, functionTool, toolset, type AgentConfigUpdate, type RunContext } from '../src/index.ts';
import { flattenTools } from '../src/llm/toolset.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const echo = (name: string, out = `${name} done`) => functionTool({ name, description: name, execute: () => out });
const configItems = (items: readonly { type: string }[]) => items.filter((i): i is AgentConfigUpdate => i.type === 'agent_config_update');
const systemText = (items: readonly any[]) => items.find((i) => i.id === 'instructions')?.content.join('');

describe('agent.updateInstructions / updateTools / updateChatCtx', () => {
  it('new instructions reach the next LLM call and are recorded as a config update', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'one' }, { start: 4000, end: 4500, transcript: 'two' }],
      llm: [{ input: 'one', content: 'First.' }, { input: 'two', content: 'Second.' }],
    });
    await h.at(3000);
    await h.agent.updateInstructions('Be brief.');
    await h.at(8000);
    expect(h.llm.requests.map((r) => systemText(r.items))).toEqual(['You are a test agent.', 'Be brief.']);
    const [item] = configItems(h.session.history.items);
    expect(item).toMatchObject({ instructions: 'Be brief.' });
    expect(configItems(h.agent.chatCtx.items)).toEqual([item]);
    // The update sits between the first reply and the second turn.
    expect(historyText(h.session).slice(1)).toEqual(['user: one', 'assistant: First.', 'agent_config_update', 'user: two', 'assistant: Second.']);
    // Still one instructions message in the agent's context.
    expect(h.agent.chatCtx.items.filter((i) => i.id === 'instructions')).toHaveLength(1);
    await h.session.close();
  });

  it('an update made by a tool reaches the tool reply step of the same speech', async () => {
    const agent = new Agent({ instructions: 'v1' });
    const switcher = functionTool({
      name: 'switch_mode',
      description: 'switch',
      execute: async () => {
        await agent.updateInstructions('v2');
        return 'switched';
      },
    });
    const h = await startHarness({
      agent,
      utterances: [{ start: 0, end: 500, transcript: 'go' }],
      llm: [{ input: 'go', toolCalls: [{ name: 'switch_mode', arguments: {} }] }, { input: 'switched', content: 'Done.' }],
      session: { tools: [switcher] },
    });
    await h.at(5000);
    expect(h.llm.requests.map((r) => systemText(r.items))).toEqual(['v1', 'v2']);
    await h.session.close();
  });

  it('updateTools: the next call is offered the new tools (toolsets flattened), recorded as added/removed', async () => {
    const a = echo('tool_a');
    const b = echo('tool_b');
    const c = echo('tool_c');
    const agent = new Agent({ instructions: 'x', tools: [a] });
    const h = await startHarness({
      agent,
      utterances: [{ start: 0, end: 500, transcript: 'one' }, { start: 4000, end: 4500, transcript: 'two' }, { start: 8000, end: 8500, transcript: 'three' }],
      llm: [{ input: 'one', content: 'A.' }, { input: 'two', content: 'B.' }, { input: 'three', content: 'C.' }],
      session: { tools: [echo('session_tool')] },
    });
    await h.at(3000);
    await agent.updateTools([toolset({ name: 'bc', tools: [b, c] })]);
    await h.at(7000);
    await agent.updateTools([a]);
    await h.at(12000);
    expect(h.llm.requests.map((r) => r.tools)).toEqual([
      ['session_tool', 'tool_a'],
      ['session_tool', 'tool_b', 'tool_c'],
      ['session_tool', 'tool_a'],
    ]);
    expect(configItems(h.session.history.items).map((i) => [i.toolsAdded, i.toolsRemoved])).toEqual([
      [['tool_b', 'tool_c'], ['tool_a']],
      [['tool_a'], ['tool_b', 'tool_c']],
    ]);
    // A name the session already has is refused, and nothing changes.
    await expect(agent.updateTools([echo('session_tool')])).rejects.toThrow(/duplicate tool name "session_tool"/);
    expect(agent.tools).toEqual([a]);
    await h.session.close();
  });

  it('updateTools on an agent that is not running only changes its tools; they apply when it starts', async () => {
    const agent = new Agent({ instructions: 'x' });
    await agent.updateTools([echo('later')]);
    expect(configItems(agent.chatCtx.items)).toEqual([]);
    const h = await startHarness({ agent, utterances: [{ start: 0, end: 500, transcript: 'hi' }], llm: [{ input: 'hi', content: 'Hey.' }] });
    await h.at(3000);
    expect(h.llm.requests[0]!.tools).toEqual(['later']);
    await h.session.close();
  });

  it('updateChatCtx replaces the context; the running agent keeps its instructions at the head', async () => {
    const h = await startHarness({ utterances: [{ start: 4000, end: 4500, transcript: 'what did I say?' }], llm: [{ input: 'what did I say?', content: 'Blue.' }] });
    const ctx = new ChatContext();
    ctx.addMessage('user', 'my favourite colour is blue', { createdAt: 1 });
    ctx.addMessage('assistant', 'noted', { createdAt: 2 });
    await h.agent.updateChatCtx(ctx);
    await h.at(7000);
    const sent = h.llm.requests[0]!.items.filter((i) => i.type === 'message').map((m) => (m as { content: string[] }).content.join(''));
    expect(sent).toEqual(['You are a test agent.', 'my favourite colour is blue', 'noted', 'what did I say?']);
    await expect(h.agent.updateChatCtx(null as never)).rejects.toThrow(/needs a ChatContext/);
    await h.session.close();
  });
});

describe('RunContext', () => {
  it('carries the session, the calling speech, the call, userdata; waitForPlayout waits for the step audio', async () => {
    let seen: Record<string, unknown> = {};
    const lookup = functionTool({
      name: 'lookup',
      description: 'looks up',
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }, ctx: RunContext<{ user: string }>) => {
        const calledAt = Date.now();
        await ctx.waitForPlayout();
        seen = { q, session: ctx.session, speechId: ctx.speechHandle.id, call: ctx.functionCall, user: ctx.userdata.user, waited: Date.now() - calledAt, aborted: ctx.abortSignal.aborted };
        return 'found';
      },
    });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'find x' }],
      llm: [{ input: 'find x', content: 'Looking that up for you now.', toolCalls: [{ name: 'lookup', arguments: { q: 'x' }, callId: 'c1' }], duration: 100 }],
      tts: [{ input: 'Looking that up for you now.', duration: 1500 }],
      session: { tools: [lookup], userdata: { user: 'ann' } },
    });
    await h.at(6000);
    const speech = h.rec.of('speech_created')[0]!.speechHandle;
    expect(seen.session).toBe(h.session);
    expect(seen).toMatchObject({ q: 'x', speechId: speech.id, call: { callId: 'c1', name: 'lookup', arguments: '{"q":"x"}' }, user: 'ann', aborted: false });
    // The call came at the end of the LLM stream; the step's 1500 ms of audio had most of it still to play.
    expect(seen.waited).toBeGreaterThan(1000);
    await h.session.close();
  });

  it('ctx.update() is spoken while the tool keeps running and recorded in the history', async () => {
    let returnedAt = 0;
    const book = functionTool({
      name: 'book',
      description: 'books',
      execute: async (_a, ctx) => {
        await sleep(500);
        ctx.update('Found a table, booking it now.');
        await sleep(4000);
        returnedAt = Date.now();
        return 'booked';
      },
    });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'book' }],
      llm: [{ input: 'book', toolCalls: [{ name: 'book', arguments: {} }] }, { input: 'booked', content: 'You are booked.' }],
      tts: [{ input: 'Found a table, booking it now.', duration: 1500 }, { input: 'You are booked.', duration: 800 }],
      session: { tools: [book] },
    });
    await h.at(10000);
    const [update, reply] = h.output.segments;
    expect(update!.playedMs).toBe(1500);
    expect(update!.startedAt + update!.playedMs).toBeLessThan(returnedAt);
    expect(reply!.startedAt).toBeGreaterThanOrEqual(returnedAt);
    expect(historyText(h.session).slice(1)).toEqual([
      'user: book',
      // In time order: the call started, then the update was said while it ran.
      'call book({})',
      'assistant: Found a table, booking it now.',
      'output book: booked',
      'assistant: You are booked.',
    ]);
    await h.session.close();
  });
});

describe('fillers', () => {
  const slow = (ms: number, filler: Parameters<typeof functionTool>[0]['filler']) =>
    functionTool({
      name: 'slow',
      description: 'slow',
      filler,
      execute: async () => {
        await sleep(ms);
        return 'slow result';
      },
    });
  const script = {
    utterances: [{ start: 0, end: 500, transcript: 'go' }],
    llm: [{ input: 'go', toolCalls: [{ name: 'slow', arguments: {} }] }, { input: 'slow result', content: 'Here it is.' }],
    tts: [{ input: 'One moment please.', duration: 600 }, { input: 'Here it is.', duration: 500 }],
  };

  it('a slow tool gets its filler after the delay, not before, then the tool reply', async () => {
    const h = await startHarness({ ...script, session: { tools: [slow(3000, { after: 1000, text: 'One moment please.' })] } });
    await h.at(8000);
    // The step with the call is silent: the wait (runningTools) starts when the tool does.
    const callAt = h.session.history.items.find((i) => i.type === 'function_call')!.createdAt;
    expect(h.output.segments[0]!.startedAt - callAt).toBe(1000);
    expect(h.tts.inputs).toEqual(['One moment please.', 'Here it is.']);
    expect(historyText(h.session).slice(1)).toEqual(['user: go', 'call slow({})', 'assistant: One moment please.', 'output slow: slow result', 'assistant: Here it is.']);
    await h.session.close();
  });

  it('a tool that returns before the delay has no filler', async () => {
    const h = await startHarness({ ...script, session: { tools: [slow(500, { after: 1000, text: 'One moment please.' })] } });
    await h.at(8000);
    expect(h.tts.inputs).toEqual(['Here it is.']);
    await h.session.close();
  });

  it('a generated filler is a reply of its own, told not to call tools', async () => {
    const h = await startHarness({ ...script, session: { tools: [slow(3000, { after: 800, generate: 'Say you are checking.' })] } });
    h.llm.add({ input: 'go', toolCalls: [{ name: 'slow', arguments: {} }] });
    await h.at(8000);
    const filler = h.llm.requests[1]!;
    expect(filler.toolChoice).toBe('none');
    expect(filler.items.at(-1)).toMatchObject({ role: 'system', content: ['Say you are checking.'] });
    await h.session.close();
  });

  it('bad filler options are refused when the tool is made', () => {
    expect(() => slow(1, { after: -1, text: 'x' })).toThrow(/filler needs `after`/);
    expect(() => slow(1, { after: 10 } as never)).toThrow(/`text` or `generate`/);
  });
});

describe('toolsets', () => {
  it('session and agent toolsets are flattened for the LLM; a name twice is refused', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'hi' }],
      llm: [{ input: 'hi', toolCalls: [{ name: 'b2', arguments: {} }] }, { input: 'b2 done', content: 'ok' }],
      session: { tools: [toolset({ name: 'a', tools: [echo('a1'), echo('a2')] })] },
      agent: new Agent({ instructions: 'x', tools: [toolset({ name: 'b', tools: [echo('b1'), echo('b2')] }), echo('c')] }),
    });
    await h.at(5000);
    expect(h.llm.requests[0]!.tools).toEqual(['a1', 'a2', 'b1', 'b2', 'c']);
    // A tool inside a toolset runs like any other.
    expect(historyText(h.session)).toContain('output b2: b2 done');
    await h.session.close();
    expect(() => flattenTools([toolset({ name: 'x', tools: [echo('t')] }), echo('t')], 'agent y')).toThrow(/duplicate tool name "t" for agent y/);
    expect(() => toolset({ name: 'nested', tools: [toolset({ name: 'inner', tools: [] }) as never] })).toThrow(/no nested toolsets/);
    expect(() => flattenTools([{ name: 'junk' } as never], 'agent y')).toThrow(/neither a function tool nor a toolset/);
  });
});

describe('tool flags: not offered during onEnter', () => {
  it('replies of onEnter (and their tool steps) do not see not_in_on_enter tools; later replies do', async () => {
    const hangUp = functionTool({ name: 'hang_up', description: 'ends the call', flags: ['not_in_on_enter'], execute: () => 'bye' });
    const transfer = functionTool({ name: 'transfer', description: 'transfers', offerDuringOnEnter: false, execute: () => 'ok' });
    const lookup = echo('lookup', 'looked up');
    class Greeter extends Agent {
      constructor() {
        super({ instructions: 'greet', tools: [hangUp, transfer, lookup] });
      }
      override onEnter() {
        this.session.generateReply({ instructions: 'greet the user' });
      }
    }
    const h = await startHarness({
      agent: new Greeter(),
      utterances: [{ start: 5000, end: 5500, transcript: 'hello' }],
      llm: [
        { input: '', toolCalls: [{ name: 'lookup', arguments: {} }] },
        { input: 'looked up', content: 'Welcome back!' },
        { input: 'hello', content: 'Hi.' },
      ],
    });
    await h.at(9000);
    expect(h.llm.requests.map((r) => [r.key, r.tools])).toEqual([
      ['', ['lookup']],
      ['looked up', ['lookup']],
      ['hello', ['hang_up', 'transfer', 'lookup']],
    ]);
    await h.session.close();
    expect(() => functionTool({ name: 'x', description: 'x', flags: ['bogus' as never], execute: () => 1 })).toThrow(/unknown flag "bogus"/);
  });

  it('offeredToolNames is a pure function of the tools and the speech', () => {
    const tools = [{ name: 'a', flags: [] }, { name: 'b', flags: ['not_in_on_enter'] }];
    expect(offeredToolNames(tools, { toolChoice: 'auto', inOnEnter: false })).toEqual(['a', 'b']);
    expect(offeredToolNames(tools, { toolChoice: 'required', inOnEnter: true })).toEqual(['a']);
    expect(offeredToolNames(tools, { toolChoice: 'none', inOnEnter: false })).toEqual([]);
  });
});

describe('tool reply steps', () => {
  const pick = echo('pick', 'picked');
  const other = echo('other');
  const llm = [
    { input: 'choose', toolCalls: [{ name: 'pick', arguments: {} }] },
    { input: 'picked', content: 'You picked.' },
  ];

  it("after toolChoice 'required' the follow-up is offered the tools with 'auto', and answers", async () => {
    const h = await startHarness({ llm, session: { tools: [pick, other] } });
    h.session.generateReply({ userInput: 'choose', toolChoice: 'required' });
    await h.at(5000);
    expect(h.llm.requests.map((r) => [r.toolChoice, r.tools])).toEqual([
      ['required', ['pick', 'other']],
      ['auto', ['pick', 'other']],
    ]);
    expect(historyText(h.session).at(-1)).toBe('assistant: You picked.');
    await h.session.close();
  });

  it('a named tool choice reaches the first step; the follow-up gets auto and the tools', async () => {
    const h = await startHarness({ llm, session: { tools: [pick, other] } });
    h.session.generateReply({ userInput: 'choose', toolChoice: { type: 'function', name: 'pick' } });
    await h.at(5000);
    expect(h.llm.requests.map((r) => [r.toolChoice, r.tools])).toEqual([
      [{ type: 'function', name: 'pick' }, ['pick', 'other']],
      ['auto', ['pick', 'other']],
    ]);
    expect(historyText(h.session).at(-1)).toBe('assistant: You picked.');
    await h.session.close();
  });
});

describe('speech machine: the filler delay', () => {
  const start = () => {
    const a = createActor(speechMachine, { input: { id: 's', priority: 5, allowInterruptions: true } }).start();
    const spoken: string[] = [];
    a.on('filler', (e) => void spoken.push(e.callId));
    a.send({ type: 'SCHEDULE' });
    a.send({ type: 'AUTHORIZE' });
    return { a, spoken };
  };

  it('emits the earliest filler `after` ms into runningTools, once', async () => {
    const { a, spoken } = start();
    a.send({ type: 'TOOL_FILLER', callId: 'late', after: 2000 });
    a.send({ type: 'TOOL_FILLER', callId: 'early', after: 700 });
    a.send({ type: 'STEP_DONE', toolCalls: 2 });
    expect(a.getSnapshot().value).toBe('runningTools');
    await vi.advanceTimersByTimeAsync(699);
    expect(spoken).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(spoken).toEqual(['early']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(spoken).toEqual(['early']);
  });

  it('no filler when the tools return first, or when the speech was interrupted, or none was registered', async () => {
    const first = start();
    first.a.send({ type: 'TOOL_FILLER', callId: 'c', after: 500 });
    first.a.send({ type: 'STEP_DONE', toolCalls: 1 });
    await vi.advanceTimersByTimeAsync(400);
    first.a.send({ type: 'TOOLS_DONE', replyWanted: true, handoff: false });
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.spoken).toEqual([]);
    // The tool reply step starts without the old step's filler.
    expect(first.a.getSnapshot().context.filler).toBeNull();

    const cut = start();
    cut.a.send({ type: 'TOOL_FILLER', callId: 'c', after: 500 });
    cut.a.send({ type: 'STEP_DONE', toolCalls: 1 });
    cut.a.send({ type: 'INTERRUPT' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(cut.spoken).toEqual([]);

    const none = start();
    none.a.send({ type: 'STEP_DONE', toolCalls: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(none.spoken).toEqual([]);
    expect(none.a.getSnapshot().value).toBe('runningTools');
  });

  it('fuzzed: the filler is said once exactly when the wait outlasts its delay and the speech is not interrupted first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
        async (after, toolMs, interruptAt) => {
          fc.pre(after !== toolMs && after !== interruptAt); // ties depend on timer creation order, not on the machine
          const { a, spoken } = start();
          a.send({ type: 'TOOL_FILLER', callId: 'c', after });
          a.send({ type: 'STEP_DONE', toolCalls: 1 });
          const timers = [setTimeout(() => a.send({ type: 'TOOLS_DONE', replyWanted: false, handoff: false }), toolMs)];
          // (an interruption after the speech ended is no event for it)
          if (interruptAt !== undefined) timers.push(setTimeout(() => a.getSnapshot().status === 'active' && a.send({ type: 'INTERRUPT' }), interruptAt));
          await vi.advanceTimersByTimeAsync(4000);
          timers.forEach(clearTimeout);
          const expected = after < toolMs && (interruptAt === undefined || after < interruptAt) ? ['c'] : [];
          expect(spoken).toEqual(expected);
          a.stop();
        },
      ),
      { numRuns: 200 },
    );
  });
});
