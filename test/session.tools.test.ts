import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, functionTool, ToolError } from '../src/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const weather = functionTool({
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    await new Promise((r) => setTimeout(r, 300));
    return `sunny in ${city}`;
  },
});

describe('tool calls', () => {
  it('e2e latency belongs to the first reply the user hears, after a silent tool step', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Weather in Rome?' }],
      llm: [
        { input: 'Weather in Rome?', toolCalls: [{ name: 'get_weather', arguments: { city: 'Rome' } }], ttft: 100, duration: 100 },
        { input: 'sunny in Rome', content: 'Sunny in Rome.', ttft: 100, duration: 100 },
      ],
      tts: [{ input: 'Sunny in Rome.', ttfb: 50, duration: 800 }],
      session: { tools: [weather] },
    });
    await h.at(6000);
    const replies = h.session.history.messages().filter((m) => m.role === 'assistant');
    expect(replies.map((m) => m.content.join(''))).toEqual(['Sunny in Rome.']);
    // Commit 1500, tool call 1600, tool output 1900, first token 2000, audio 2050: 1050 ms after the user stopped.
    expect(replies[0]!.metrics).toMatchObject({ e2eLatency: 1050, llmNodeTtft: 100, ttsNodeTtfb: 50 });
    await h.session.close();
  });

  it('speaks, runs the tool, then speaks the tool reply; items in order', async () => {
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Weather in Paris?' }],
      llm: [
        { input: 'Weather in Paris?', content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], ttft: 100, duration: 200 },
        { input: 'sunny in Paris', content: 'It is sunny in Paris.', ttft: 100, duration: 200 },
      ],
      tts: [{ input: 'Let me check.', duration: 1000 }, { input: 'It is sunny in Paris.', duration: 1500 }],
      session: { tools: [weather] },
    });
    await h.at(8000);
    expect(h.rec.agentStates()).toEqual(['listening', 'thinking', 'speaking', 'thinking', 'speaking', 'listening']);
    expect(historyText(h.session)).toEqual([
      'handoff - -> default_agent',
      'user: Weather in Paris?',
      'assistant: Let me check.',
      'call get_weather({"city":"Paris"})',
      'output get_weather: sunny in Paris',
      'assistant: It is sunny in Paris.',
    ]);
    const executed = h.rec.of('function_tools_executed');
    expect(executed).toHaveLength(1);
    expect(executed[0]!.functionCallOutputs.map((o) => o.output)).toEqual(['sunny in Paris']);
    // The tool reply may still call tools: it is step 2 of the default 4.
    expect(h.llm.requests.map((r) => r.toolChoice)).toEqual(['auto', 'auto']);
    // Only one speech handle serves the whole turn.
    expect(h.rec.of('speech_created')).toHaveLength(1);
    await h.session.close();
  });

  it('unknown tool, unparsable arguments, invalid arguments and a throwing tool each give exactly one error output', async () => {
    const boom = functionTool({ name: 'boom', description: 'fails', execute: () => { throw new Error('secret detail'); } });
    const picky = functionTool({ name: 'picky', description: 'needs n', parameters: z.object({ n: z.number() }), execute: ({ n }) => n * 2 });
    const refuse = functionTool({ name: 'refuse', description: 'refuses', execute: () => { throw new ToolError('not allowed'); } });
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'go' }],
      llm: [
        {
          input: 'go',
          toolCalls: [
            { name: 'nope', arguments: {} },
            { name: 'picky', arguments: '{"n": 1' },
            { name: 'picky', arguments: { n: 'x' } },
            { name: 'boom', arguments: {} },
            { name: 'refuse', arguments: {} },
            { name: 'picky', arguments: { n: 21 } },
          ],
        },
      ],
      session: { tools: [boom, picky, refuse] },
    });
    await h.at(4000);
    const outs = h.session.history.items.filter((i) => i.type === 'function_call_output');
    const calls = h.session.history.items.filter((i) => i.type === 'function_call');
    expect(calls).toHaveLength(6);
    expect(outs).toHaveLength(6);
    expect(new Set(outs.map((o) => o.callId)).size).toBe(6);
    const byCall = Object.fromEntries(outs.map((o) => [o.callId, o]));
    expect(byCall.call_0).toMatchObject({ isError: true, output: 'Unknown function: nope - available tools: boom, picky, refuse' });
    expect(byCall.call_1!.isError).toBe(true);
    expect(byCall.call_1!.output).toMatch(/^Error parsing arguments for `picky`: invalid JSON/);
    expect(byCall.call_2!.isError).toBe(true);
    expect(byCall.call_2!.output).toMatch(/^Error parsing arguments for `picky`: .*n/s);
    expect(byCall.call_3).toMatchObject({ isError: true, output: 'An internal error occurred' });
    expect(byCall.call_4).toMatchObject({ isError: true, output: 'not allowed' });
    expect(byCall.call_5).toMatchObject({ isError: false, output: '42' });
    // The throwing tool's detail is reported to the developer, never to the model.
    const errs = h.rec.of('error').filter((e) => e.source === 'tool');
    expect(errs.map((e) => e.error.message)).toEqual(['secret detail']);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });

  it('maxToolSteps: the step after the budget is forced to text', async () => {
    const loop = functionTool({ name: 'again', description: 'loops', execute: () => 'again' });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'loop' }],
      llm: [
        { input: 'loop', toolCalls: [{ name: 'again', arguments: {} }] },
        { input: 'again', content: 'done', toolCalls: [{ name: 'again', arguments: {} }] },
      ],
      session: { tools: [loop], maxToolSteps: 2 },
    });
    await h.at(20000);
    // maxToolSteps + 1 generations may call tools (num_steps starts at 1); the next one must answer in text.
    expect(h.llm.requests.map((r) => r.toolChoice)).toEqual(['auto', 'auto', 'auto', 'none']);
    expect(h.llm.requests.at(-1)!.tools).toEqual([]);
    const outs = h.session.history.items.filter((i) => i.type === 'function_call_output');
    expect(outs).toHaveLength(3);
    await h.session.close();
  });

  it('a tool returning an Agent hands off: old agent fenced, handoff item, new agent onEnter speaks', async () => {
    class Billing extends Agent {
      constructor() {
        super({ instructions: 'billing' });
      }
      override onEnter() {
        this.session.say('Billing here.');
      }
    }
    const transfer = functionTool({ name: 'transfer', description: 'to billing', execute: () => new Billing() });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'billing please' }],
      llm: [{ input: 'billing please', content: 'Transferring.', toolCalls: [{ name: 'transfer', arguments: {} }] }],
      tts: [{ input: 'Transferring.', duration: 800 }, { input: 'Billing here.', duration: 800 }],
      session: { tools: [transfer] },
    });
    await h.at(6000);
    expect(h.session.currentAgent).toBeInstanceOf(Billing);
    expect(historyText(h.session)).toEqual([
      'handoff - -> default_agent',
      'user: billing please',
      'assistant: Transferring.',
      'call transfer({})',
      'output transfer: ',
      'handoff default_agent -> billing',
      'assistant: Billing here.',
    ]);
    // A bare handoff asks for no tool reply.
    expect(h.llm.requests).toHaveLength(1);
    await h.session.close();
  });
});

describe('handoff races', () => {
  it('a user turn that ends while the handoff drains is answered by the new agent, never the old one', async () => {
    class Billing extends Agent {
      constructor() {
        super({ instructions: 'billing', id: 'billing' });
      }
    }
    const h = await startHarness({
      // "Transferring you now." plays 1000..4000; the handoff is requested at 1500; the user's next turn
      // commits at 3300, inside the fence, and must reach the billing agent once it is active.
      utterances: [{ start: 0, end: 500, transcript: 'billing please' }, { start: 2000, end: 2800, transcript: 'my invoice is wrong' }],
      llm: [
        { input: 'billing please', content: 'Transferring you now.' },
        { input: 'my invoice is wrong', content: 'Billing: let me look.' },
      ],
      tts: [{ input: 'Transferring you now.', duration: 3000 }],
      session: { turnHandling: { interruption: { enabled: false } } },
    });
    await h.at(1500);
    h.session.updateAgent(new Billing());
    await h.at(9000);
    expect(historyText(h.session).slice(1)).toEqual([
      'user: billing please',
      'assistant: Transferring you now.',
      'handoff default_agent -> billing',
      'user: my invoice is wrong',
      'assistant: Billing: let me look.',
    ]);
    // Only one reply request per turn: the old agent never answered the second one.
    expect(h.llm.requests.map((r) => r.key)).toEqual(['billing please', 'my invoice is wrong']);
    await h.session.close();
  });

  it('close() during a handoff still reaches closed with one close event', async () => {
    class Slow extends Agent {
      constructor() {
        super({ instructions: 'slow' });
      }
      override async onEnter() {
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
    const h = await startHarness({ tts: [{ input: 'Bye.', duration: 2000 }] });
    h.session.say('Bye.');
    h.session.updateAgent(new Slow());
    await h.at(1000);
    const closing = h.session.close();
    await vi.advanceTimersByTimeAsync(10_000);
    await closing;
    expect(h.session.lifecycle).toBe('closed');
    expect(h.rec.of('close')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('tool context', () => {
  it('ctx.waitForPlayout waits for the step audio; the handle own waitForPlayout is refused; cancelToolReply works', async () => {
    const log: string[] = [];
    const probe = functionTool({
      name: 'probe',
      description: '',
      execute: async (_args, ctx) => {
        log.push(`start ${Date.now() - 1_000_000}`);
        await ctx.waitForPlayout();
        log.push(`played ${Date.now() - 1_000_000}`);
        await expect(ctx.speechHandle.waitForPlayout()).rejects.toThrow(/use ctx.waitForPlayout/);
        return 'probed';
      },
    });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'probe it' }],
      llm: [{ input: 'probe it', content: 'Probing now.', toolCalls: [{ name: 'probe', arguments: {} }] }, { input: 'probed', content: 'Never said.' }],
      tts: [{ input: 'Probing now.', duration: 1000 }],
      session: { tools: [probe] },
    });
    h.session.on('function_tools_executed', (e) => {
      expect(e.hasToolReply).toBe(true);
      e.cancelToolReply();
    });
    await h.at(5000);
    expect(log).toEqual(['start 1000', 'played 2000']);
    expect(h.llm.requests.map((r) => r.key)).toEqual(['probe it']); // the reply to "probed" was cancelled
    expect(h.session.agentState).toBe('listening');
    await h.session.close();
  });
});
