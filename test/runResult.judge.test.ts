/** judge(): an LLM decides whether a message meets an intent — a scripted FakeLLM, and the OpenAI plugin over a local server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, AgentSession, createMessage, functionTool } from '../src/index.ts';
import { OpenAILLM } from '../src/plugins/openai/llm.ts';
import { FakeLLM, JudgeError, RunAssertionError, RunExpect, type FakeLLMResponse, type RunResult } from '../src/testing/index.ts';
import { chunk, finish, startChatServer, toolChunk } from './providerServers/sseChatServer.ts';

const REPLY = 'Hi! How can I help you today?';
const INTENT = 'greets the user and offers help';

const sessions: AgentSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

async function greeted(): Promise<RunResult> {
  const session = new AgentSession({ llm: new FakeLLM([{ input: 'Hello', content: REPLY }]) });
  sessions.push(session);
  await session.start({ agent: new Agent({ instructions: 'Be friendly.' }) });
  return session.run({ userInput: 'Hello' });
}

/** A judge that answers the reply with `answer`. */
const judgeSaying = (answer: Omit<FakeLLMResponse, 'input'>) => new FakeLLM([{ input: REPLY, ...answer }]);
const verdict = (success: unknown, reason?: string) => ({ toolCalls: [{ name: 'check_intent', arguments: { success, ...(reason ? { reason } : {}) } }] });

describe('judge() with a scripted judge (FakeLLM)', () => {
  it('a passing verdict resolves to the assertion; the judge saw the intent, the message and one required tool', async () => {
    const result = await greeted();
    const judge = judgeSaying(verdict(true, 'It greets and offers help.'));
    const msg = await result.expect.nextEvent().isMessage({ role: 'assistant' }).judge(judge, { intent: INTENT });
    expect(msg.event().item.content.join('')).toBe(REPLY);
    result.expect.noMoreEvents();
    const req = judge.requests[0]!;
    expect(req.tools).toEqual(['check_intent']);
    expect(req.toolChoice).toBe('required');
    const [system, user] = req.items;
    expect(system).toMatchObject({ role: 'system' });
    expect(system?.type === 'message' && system.content.join('')).toContain(INTENT);
    expect(user).toMatchObject({ role: 'user', content: [REPLY] });
  });

  it('a failing verdict fails with the judge\'s reason, the intent and the events', async () => {
    const result = await greeted();
    const judge = judgeSaying(verdict(false, 'It never mentions the weather.'));
    const err = await result.expect.nextEvent().isMessage().judge(judge, { intent: 'talks about the weather' }).catch((e) => e);
    expect(err).toBeInstanceOf(RunAssertionError);
    expect(err.message).toBe(
      `event [0] does not fulfil the intent "talks about the weather": It never mentions the weather.\nEvents of this run:\n>>> [0] message assistant: "${REPLY}"`,
    );
  });

  it('a verdict in text, as JSON (bare or fenced), is accepted; "true"/"false" strings too', async () => {
    const result = await greeted();
    const msg = result.expect.nextEvent().isMessage();
    await msg.judge(judgeSaying({ content: '```json\n{"success": true, "reason": "greets"}\n```' }), { intent: INTENT });
    await msg.judge(judgeSaying({ content: 'Verdict: {"success": "true", "reason": "ok"}' }), { intent: INTENT });
    await expect(msg.judge(judgeSaying({ content: '{"success": false, "reason": "too curt"}' }), { intent: INTENT })).rejects.toThrow(/: too curt\n/);
    // No reason is still a verdict.
    await expect(msg.judge(judgeSaying(verdict(false)), { intent: INTENT })).rejects.toThrow(/: \(the judge gave no reason\)\n/);
  });

  it('malformed answers are JudgeErrors that say what the judge answered', async () => {
    const result = await greeted();
    const msg = result.expect.nextEvent().isMessage();
    const judged = (answer: Omit<FakeLLMResponse, 'input'>) =>
      msg.judge(judgeSaying(answer), { intent: INTENT }).then(
        () => new Error('the judge passed'),
        (e) => e as Error,
      );
    const prose = await judged({ content: 'Yes, it does.' });
    expect(prose).toBeInstanceOf(JudgeError);
    expect(prose.message).toMatch(/^judge\(\) of event \[0\]: the judge LLM gave no verdict: its answer "Yes, it does\." is not JSON \{"success": boolean, "reason": string\}\nEvents of this run:\n>>> \[0\]/);
    expect((await judged(verdict('maybe', 'unsure'))).message).toMatch(/its check_intent arguments "\{\\"success\\":\\"maybe\\",\\"reason\\":\\"unsure\\"\}" has no boolean "success"/);
    expect((await judged({ toolCalls: [{ name: 'check_intent', arguments: '{"success": tru' }] })).message).toMatch(/is not JSON/);
    expect((await judged({ toolCalls: [{ name: 'lookup', arguments: {} }] })).message).toMatch(/the judge LLM called lookup instead of check_intent/);
    expect((await judged({ content: '' })).message).toMatch(/the judge LLM answered nothing \(no check_intent call, no text\): a FakeLLM judge answers only a message text/);
    expect((await judged({ error: new Error('rate limited') })).message).toMatch(/the judge LLM \(fake-llm\) failed: rate limited/);
  });

  it('needs an intent, and a message with text', async () => {
    const result = await greeted();
    const msg = result.expect.nextEvent().isMessage();
    await expect(msg.judge(judgeSaying(verdict(true, 'ok')), { intent: ' ' })).rejects.toThrow(TypeError);
    const empty = new RunExpect([{ type: 'message', item: createMessage('assistant', '') }]);
    await expect(empty.nextEvent().isMessage().judge(judgeSaying(verdict(true, 'ok')), { intent: INTENT })).rejects.toThrow(/^cannot judge event \[0\]: the message is empty/);
  });
});

describe('run() and judge() with the OpenAI plugin over a local SSE server', () => {
  let server: Awaited<ReturnType<typeof startChatServer>>;
  beforeEach(async () => (server = await startChatServer()));
  afterEach(() => server.close());
  const openai = () => new OpenAILLM({ model: 'test-model', apiKey: 'sk-test', baseURL: `${server.url}/v1`, connOptions: { maxRetry: 0, retryInterval: 10, timeout: 2000 } });

  const weather = functionTool({
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: z.object({ city: z.string() }),
    execute: ({ city }) => `sunny in ${city}`,
  });

  it('a tool turn, then the judge passes one message and fails another with the model\'s reason', async () => {
    const llm = openai();
    const session = new AgentSession({ llm, tools: [weather] });
    sessions.push(session);
    await session.start({ agent: new Agent({ instructions: 'You report the weather.' }) });
    server.script.push(
      { kind: 'stream', chunks: [toolChunk(0, { name: 'get_weather', arguments: '{"city":' }, 'call_w'), toolChunk(0, { arguments: ' "Oslo"}' }), finish('tool_calls')] },
      { kind: 'stream', chunks: [chunk('It is sunny'), chunk(' in Oslo.'), finish('stop')] },
    );
    const result = await session.run({ userInput: 'Weather in Oslo?' });
    result.expect.nextEvent().isFunctionCall({ name: 'get_weather', arguments: { city: 'Oslo' } });
    result.expect.nextEvent().isFunctionCallOutput({ output: 'sunny in Oslo' });
    const answer = result.expect.nextEvent().isMessage({ role: 'assistant', content: 'It is sunny in Oslo.' });
    result.expect.noMoreEvents();
    // The tool reply request carried the call and its output back to the model.
    expect(server.requests[1]!.body.messages.slice(-2)).toMatchObject([{ role: 'assistant', tool_calls: [{ id: 'call_w' }] }, { role: 'tool', tool_call_id: 'call_w', content: 'sunny in Oslo' }]);

    server.script.push({ kind: 'stream', chunks: [toolChunk(0, { name: 'check_intent', arguments: '{"success": true, "reason": "states the weather in Oslo"}' }, 'call_j'), finish('tool_calls')] });
    await answer.judge(llm, { intent: 'tells the user the weather in Oslo' });
    const judgeRequest = server.requests[2]!.body;
    expect(judgeRequest.tool_choice).toBe('required');
    expect(judgeRequest.tools.map((t: any) => t.function.name)).toEqual(['check_intent']);
    expect(judgeRequest.messages).toMatchObject([{ role: 'system' }, { role: 'user', content: 'It is sunny in Oslo.' }]);
    expect(judgeRequest.messages[0].content).toContain('tells the user the weather in Oslo');

    server.script.push({ kind: 'stream', chunks: [toolChunk(0, { name: 'check_intent', arguments: '{"success": false, "reason": "no temperature given"}' }, 'call_k'), finish('tool_calls')] });
    await expect(answer.judge(llm, { intent: 'gives the temperature' })).rejects.toThrow(/^event \[2\] does not fulfil the intent "gives the temperature": no temperature given\n/);
  });

  it('a model error rejects the run with the provider\'s error; the next run works', async () => {
    const session = new AgentSession({ llm: openai() });
    sessions.push(session);
    await session.start({ agent: new Agent({ instructions: 'x' }) });
    server.script.push({ kind: 'status', status: 400, body: { error: { message: 'bad request body', type: 'invalid_request_error' } } });
    await expect(session.run({ userInput: 'Hi' })).rejects.toThrow(/^session\.run\(\): the reply failed: .*bad request body/);
    server.script.push({ kind: 'stream', chunks: [chunk('Hello!'), finish('stop')] });
    (await session.run({ userInput: 'Hi again' })).expect.nextEvent().isMessage({ content: 'Hello!' });
  });
});
