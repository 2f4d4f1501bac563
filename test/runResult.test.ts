/** session.run(): one text-mode turn, its events, and every assertion of `result.expect` (passing and failing). */
import { NEVER } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, AgentSession, functionTool, ToolError } from '../src/index.ts';
import { FakeLLM, RunAssertionError, RunError, type FakeLLMResponse, type RunResult } from '../src/testing/index.ts';
import { partialMismatch } from '../src/testing/runExpect.ts';

const weather = functionTool({
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: z.object({ city: z.string(), units: z.object({ temp: z.string(), wind: z.string() }).optional(), days: z.array(z.number()).optional() }),
  execute: async ({ city }) => {
    if (city === 'Atlantis') throw new ToolError('no such city');
    return `sunny in ${city}`;
  },
});

class BillingAgent extends Agent {
  constructor() {
    super({ instructions: 'You handle billing.' });
  }
  override async onEnter() {
    // Speaks only after an await: the run must wait for the hook, not just for the speeches that exist.
    await new Promise((r) => setTimeout(r, 20));
    this.session.say('Billing here, how can I help?');
  }
}
class SupportAgent extends Agent {}

const transfer = functionTool({ name: 'transfer_to_billing', description: 'Hands over to billing', execute: () => new BillingAgent() });

const sessions: AgentSession[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of sessions.splice(0)) await s.close();
});

async function start(responses: FakeLLMResponse[], agent = new Agent({ instructions: 'You are a test agent.', tools: [weather, transfer] })) {
  const llm = new FakeLLM(responses);
  const session = new AgentSession({ llm });
  sessions.push(session);
  await session.start({ agent });
  return { session, llm };
}

/** The error `fn` throws (the test fails if it does not). */
function failure(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the assertion to fail, and it passed');
}

const PARIS: FakeLLMResponse[] = [
  { input: 'Weather in Paris?', content: 'Let me check.', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', units: { temp: 'C', wind: 'kmh' }, days: [1, 2] } }] },
  { input: 'sunny in Paris', content: 'It is sunny in Paris.' },
];

describe('session.run(): a text turn and its events', () => {
  // The FakeLLM answers with no delay: its text arrives synchronously (a text-only step once threw on that).
  it('a plain reply: one assistant message, not the user input; noMoreEvents passes', async () => {
    const { session } = await start([{ input: 'Hello', content: 'Hi! How can I help?' }]);
    const result = await session.run({ userInput: 'Hello' });
    expect(result.userInput).toBe('Hello');
    expect(result.events.map((e) => e.type)).toEqual(['message']);
    result.expect.nextEvent().isMessage({ role: 'assistant', content: 'Hi! How can I help?' });
    result.expect.noMoreEvents();
    expect(result.done()).toBe(true);
    // The turn happened in the session: the history has the user message and the reply.
    expect(session.history.messages().map((m) => `${m.role}: ${m.content.join('')}`)).toEqual(['user: Hello', 'assistant: Hi! How can I help?']);
  });

  it('tools: message, function call, its output, the tool reply, in history order', async () => {
    const { session } = await start(PARIS);
    const result = await session.run({ userInput: 'Weather in Paris?' });
    result.expect.nextEvent().isMessage({ role: 'assistant', content: /check/ });
    const call = result.expect.nextEvent().isFunctionCall({ name: 'get_weather', arguments: { city: 'Paris', units: { temp: 'C' } } });
    expect(call.event().item.callId).toBe('call_0');
    result.expect.nextEvent().isFunctionCallOutput({ output: 'sunny in Paris', isError: false });
    result.expect.nextEvent().isMessage({ role: 'assistant', content: 'It is sunny in Paris.' });
    result.expect.noMoreEvents();
    const historyIds = session.history.items.map((i) => i.id);
    const eventIds = result.events.map((e) => e.item.id);
    expect(eventIds).toEqual(historyIds.filter((id) => eventIds.includes(id))); // the history's order
  });

  it('a failing tool is an error output', async () => {
    const { session } = await start([
      { input: 'Weather in Atlantis?', toolCalls: [{ name: 'get_weather', arguments: { city: 'Atlantis' } }] },
      { input: 'no such city', content: 'I could not find Atlantis.' },
    ]);
    const result = await session.run({ userInput: 'Weather in Atlantis?' });
    result.expect.nextEvent().isFunctionCall({ name: 'get_weather' });
    result.expect.nextEvent().isFunctionCallOutput({ output: 'no such city', isError: true });
    result.expect.nextEvent().isMessage({ content: /Atlantis/ });
    result.expect.noMoreEvents();
  });

  it('a second run continues the conversation; each result holds only its own turn', async () => {
    const { session, llm } = await start([
      { input: 'My name is Ada.', content: 'Nice to meet you, Ada.' },
      { input: 'What is my name?', content: 'Your name is Ada.' },
    ]);
    const first = await session.run({ userInput: 'My name is Ada.' });
    const second = await session.run({ userInput: 'What is my name?' });
    first.expect.nextEvent().isMessage({ content: 'Nice to meet you, Ada.' });
    first.expect.noMoreEvents();
    second.expect.nextEvent().isMessage({ content: 'Your name is Ada.' });
    second.expect.noMoreEvents();
    // The model saw the first turn when answering the second.
    const seen = llm.requests[1]!.items.filter((i) => i.type === 'message').map((i) => (i.type === 'message' ? i.content.join('') : ''));
    expect(seen).toEqual(['You are a test agent.', 'My name is Ada.', 'Nice to meet you, Ada.', 'What is my name?']);
  });

  it('a handoff: the call, its output, the handoff to the new agent class, and what its onEnter said', async () => {
    const { session } = await start([{ input: 'I have a billing question', toolCalls: [{ name: 'transfer_to_billing', arguments: {} }] }]);
    const result = await session.run({ userInput: 'I have a billing question' });
    result.expect.nextEvent().isFunctionCall({ name: 'transfer_to_billing' });
    result.expect.nextEvent().isFunctionCallOutput({ isError: false });
    const handoff = result.expect.nextEvent().isAgentHandoff({ newAgentType: BillingAgent, newAgentId: 'billing_agent' });
    expect(handoff.event().oldAgent?.id).toBe('default_agent');
    expect(handoff.event().newAgent).toBe(session.currentAgent);
    result.expect.nextEvent().isMessage({ role: 'assistant', content: 'Billing here, how can I help?' });
    result.expect.noMoreEvents();
    const wrong = failure(() => result.expect.at(2).isAgentHandoff({ newAgentType: SupportAgent }));
    expect(wrong.message).toMatch(/^expected event \[2\] to be an agent handoff \(to a SupportAgent\), but the new agent is a BillingAgent\n/);
    expect(wrong.message).toContain('>>> [2] agent_handoff Agent(default_agent) -> BillingAgent(billing_agent)');
  });

  it('what an earlier speech (the greeting) says while the run goes on is not the run\'s', async () => {
    class Greeter extends Agent {
      override onEnter() {
        this.session.generateReply({ instructions: 'greet' });
      }
    }
    // The greeting takes 50 ms; the run's reply waits behind it.
    const { session } = await start([{ input: '', content: 'Welcome!', ttft: 50 }, { input: 'Hi', content: 'Hello again.' }], new Greeter({ instructions: 'x' }));
    const result = await session.run({ userInput: 'Hi' });
    expect(session.history.messages().some((m) => m.content.join('') === 'Welcome!')).toBe(true);
    result.expect.nextEvent().isMessage({ content: 'Hello again.' });
    result.expect.noMoreEvents();
  });

  it('an onEnter from before the run that never returns does not hold the run', async () => {
    class Stuck extends Agent {
      override onEnter() {
        return new Promise<void>(() => {});
      }
    }
    const { session } = await start([{ input: 'Hi', content: 'Hello.' }], new Stuck({ instructions: 'x' }));
    (await session.run({ userInput: 'Hi' })).expect.nextEvent().isMessage({ content: 'Hello.' });
  });

  it('works in virtual time: the run resolves as the clock advances', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { session } = await start([{ input: 'Slow?', content: 'Slow answer.', ttft: 400, duration: 900 }]);
    let result: RunResult | null = null;
    const p = session.run({ userInput: 'Slow?' }).wait().then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(500);
    expect(result).toBeNull();
    await vi.advanceTimersByTimeAsync(500);
    await p;
    result!.expect.nextEvent().isMessage({ content: 'Slow answer.' });
  });
});

describe('session.run(): failures surface clearly', () => {
  it('an LLM failure rejects with a RunError carrying the cause', async () => {
    const boom = new Error('model overloaded');
    const { session } = await start([{ input: 'Hi', error: boom }]);
    const err = await session.run({ userInput: 'Hi' }).catch((e) => e);
    expect(err).toBeInstanceOf(RunError);
    expect(err.message).toBe('session.run(): the reply failed: model overloaded');
    expect(err.cause).toBe(boom);
    // The session keeps running: the next run works.
    expect(session.lifecycle).toBe('running');
  });

  it('a second run while one is under way rejects; the first completes', async () => {
    const { session } = await start([{ input: 'One', content: 'First.', ttft: 30 }, { input: 'Two', content: 'Second.' }]);
    const first = session.run({ userInput: 'One' });
    await expect(session.run({ userInput: 'Two' })).rejects.toThrow('session.run(): another run of this session is still under way; await it before the next');
    (await first).expect.nextEvent().isMessage({ content: 'First.' });
    (await session.run({ userInput: 'Two' })).expect.nextEvent().isMessage({ content: 'Second.' });
  });

  it('a session that closes during the run rejects it', async () => {
    const hang = functionTool({ name: 'wait_forever', description: 'never returns', execute: () => new Promise(() => {}) });
    const { session } = await start([{ input: 'Wait', toolCalls: [{ name: 'wait_forever', arguments: {} }] }], new Agent({ instructions: 'x', tools: [hang] }));
    const run = session.run({ userInput: 'Wait' });
    await new Promise((r) => setTimeout(r, 20));
    void session.close();
    await expect(run).rejects.toThrow('session.run(): the session closed during the run (user_initiated)');
  });

  it('needs a running, text-mode session and a userInput', async () => {
    const idle = new AgentSession({ llm: new FakeLLM() });
    await expect(idle.run({ userInput: 'x' })).rejects.toThrow('session.run() needs a running session (it is initializing): await session.start({ agent }) first');
    const { session } = await start([]);
    await expect(session.run({} as never)).rejects.toThrow(TypeError);
    session.input.audio = NEVER;
    await expect(session.run({ userInput: 'x' })).rejects.toThrow('session.run() works in text mode: the session must have no audio input');
    session.input.audio = null;
  });
});

describe('result.expect: each matcher passes, and fails with what was expected and the events', () => {
  let result: RunResult;
  const runParis = async () => {
    const { session } = await start(PARIS);
    result = await session.run({ userInput: 'Weather in Paris?' });
  };

  it('the failure message: expectation, actual event, the numbered list with the event marked', async () => {
    await runParis();
    const e = failure(() => result.expect.nextEvent().isFunctionCall({ name: 'get_weather' }));
    expect(e).toBeInstanceOf(RunAssertionError);
    expect(e.name).toBe('AssertionError');
    expect(e.message).toBe(
      [
        'expected event [0] to be a function call (name get_weather), but it is: message assistant: "Let me check."',
        'Events of this run:',
        '>>> [0] message assistant: "Let me check."',
        '    [1] function_call get_weather({"city":"Paris","units":{"temp":"C","wind":"kmh"},"days":[1,2]})',
        '    [2] function_call_output get_weather: "sunny in Paris"',
        '    [3] message assistant: "It is sunny in Paris."',
      ].join('\n'),
    );
  });

  it('isMessage: role and content (string or RegExp)', async () => {
    await runParis();
    expect(failure(() => result.expect.at(0).isMessage({ role: 'user' })).message).toMatch(/^expected event \[0\] to be a message \(role user\), but its role is assistant\n/);
    expect(failure(() => result.expect.at(0).isMessage({ content: 'Let me see.' })).message).toMatch(/^expected event \[0\] to be a message \(content "Let me see\."\), but its content is "Let me check\."\n/);
    expect(failure(() => result.expect.at(0).isMessage({ content: /sunny/ })).message).toMatch(/content \/sunny\/\), but its content is "Let me check\."/);
    expect(failure(() => result.expect.at(1).isMessage()).message).toMatch(/^expected event \[1\] to be a message, but it is: function_call get_weather/);
    result.expect.at(3).isMessage({ content: /^It is sunny/ });
  });

  it('isFunctionCall: name, and arguments matched partially and deeply (args as an alias)', async () => {
    await runParis();
    const call = result.expect.at(1);
    call.isFunctionCall({ arguments: { units: { wind: 'kmh' } } });
    call.isFunctionCall({ args: { days: [1, 2] } });
    expect(failure(() => call.isFunctionCall({ name: 'get_time' })).message).toMatch(/^expected event \[1\] to be a function call \(name get_time\), but it calls get_weather\(/);
    expect(failure(() => call.isFunctionCall({ arguments: { units: { temp: 'F' } } })).message).toMatch(
      /but arguments\.units\.temp: expected "F", got "C" \(it was called with \{"city":"Paris",/,
    );
    expect(failure(() => call.isFunctionCall({ arguments: { country: 'FR' } })).message).toMatch(/but arguments\.country: missing/);
    expect(failure(() => call.isFunctionCall({ arguments: { days: [1] } })).message).toMatch(/but arguments\.days: expected \[1\], got \[1,2\]/);
  });

  it('isFunctionCallOutput: output and isError', async () => {
    await runParis();
    const out = result.expect.at(2);
    out.isFunctionCallOutput({ output: /sunny/ });
    expect(failure(() => out.isFunctionCallOutput({ output: 'rainy' })).message).toMatch(/^expected event \[2\] to be a function call output \(output "rainy"\), but its output is "sunny in Paris"\n/);
    expect(failure(() => out.isFunctionCallOutput({ isError: true })).message).toMatch(/but its isError is false \(output "sunny in Paris"\)/);
  });

  it('isAgentHandoff on an event that is not one', async () => {
    await runParis();
    expect(failure(() => result.expect.at(3).isAgentHandoff()).message).toMatch(/^expected event \[3\] to be an agent handoff, but it is: message assistant: "It is sunny in Paris\."\n/);
  });

  it('nextEvent(type) passes over other events; the cursor ends past the last', async () => {
    await runParis();
    result.expect.nextEvent('function_call_output').event().item.output === 'sunny in Paris' || expect.fail('wrong output');
    result.expect.nextEvent({ type: 'message' }).event().item.content.join('') === 'It is sunny in Paris.' || expect.fail('wrong message');
    result.expect.noMoreEvents();
    expect(failure(() => result.expect.nextEvent()).message).toMatch(/^expected another event after \[3\], but there is none\n/);
  });

  it('nextEvent(type) with none of that type left fails', async () => {
    await runParis();
    expect(failure(() => result.expect.nextEvent('agent_handoff')).message).toMatch(/^expected an event of type agent_handoff from \[0\] on, but there is none\n/);
  });

  it('skipNext and noMoreEvents', async () => {
    await runParis();
    result.expect.skipNext().nextEvent().isFunctionCall();
    expect(failure(() => result.expect.noMoreEvents()).message).toMatch(
      /^expected no more events, but 2 more: the next is function_call_output get_weather: "sunny in Paris"\n[\s\S]*>>> \[2\] function_call_output/,
    );
    expect(failure(() => result.expect.skipNext(3)).message).toMatch(/^expected 3 more event\(s\) to skip, but only 2 left/);
    result.expect.skipNext(2).noMoreEvents();
  });

  it('at: negative indices count from the end; out of range fails', async () => {
    await runParis();
    result.expect.at(-1).isMessage({ content: 'It is sunny in Paris.' });
    result.expect.at(-4).isMessage({ content: 'Let me check.' });
    expect(failure(() => result.expect.at(4)).message).toMatch(/^expected an event at index 4, but the run has 4\n/);
    expect(failure(() => result.expect.at(-5)).message).toMatch(/^expected an event at index -5/);
  });

  it('contains* and range(start, end)', async () => {
    await runParis();
    expect(result.expect.containsFunctionCall({ name: 'get_weather', arguments: { city: 'Paris' } }).index).toBe(1);
    expect(result.expect.containsMessage({ content: /sunny/ }).index).toBe(3);
    expect(result.expect.containsFunctionCallOutput({ isError: false }).index).toBe(2);
    expect(result.expect.range(-2).containsMessage().index).toBe(3);
    expect(failure(() => result.expect.range(0, 2).containsFunctionCallOutput()).message).toMatch(/^expected events \[0, 2\) to contain a function call output, but none matches\n/);
    expect(failure(() => result.expect.containsFunctionCall({ name: 'get_time' })).message).toMatch(/^expected the run to contain a function call \(name get_time\), but none matches/);
    expect(failure(() => result.expect.containsAgentHandoff()).message).toMatch(/contain an agent handoff, but none matches/);
    // Searches do not move the cursor.
    result.expect.nextEvent().isMessage({ content: 'Let me check.' });
  });

  it('a run that did nothing says so', async () => {
    const { session } = await start([]); // FakeLLM: an unknown input gets no answer at all
    const empty = await session.run({ userInput: 'Anyone?' });
    expect(failure(() => empty.expect.nextEvent().isMessage()).message).toBe(
      'expected an event, but this run has none\nEvents of this run:\n    (no events: the agent did nothing in this run)',
    );
    empty.expect.noMoreEvents();
  });
});

describe('partialMismatch', () => {
  it('objects on the keys given, arrays element by element, RegExps on strings, values by Object.is', () => {
    expect(partialMismatch({ a: { b: 1 } }, { a: { b: 1, c: 2 }, d: 3 }, 'x')).toBeNull();
    expect(partialMismatch({ a: [{ b: 1 }] }, { a: [{ b: 1, c: 2 }] }, 'x')).toBeNull();
    expect(partialMismatch({ a: [{ b: 2 }] }, { a: [{ b: 1 }] }, 'x')).toBe('x.a[0].b: expected 2, got 1');
    expect(partialMismatch({ s: /^ab/ }, { s: 'abc' }, 'x')).toBeNull();
    expect(partialMismatch({ s: /^ab/ }, { s: 3 }, 'x')).toBe('x.s: expected a string matching /^ab/, got 3');
    expect(partialMismatch({ n: 2 }, { n: '2' }, 'x')).toBe('x.n: expected 2, got "2"');
    expect(partialMismatch({ o: {} }, { o: null }, 'x')).toBe('x.o: expected an object, got null');
  });
});
