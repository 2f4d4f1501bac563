import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatContext, createMessage, functionTool } from '../src/index.ts';
import { GroqLLM } from '../src/plugins/groq/llm.ts';
import { repairJson, toWireMessages, TOOL_IN_PROGRESS } from '../src/plugins/openai/chatFormat.ts';
import { OpenAILLM } from '../src/plugins/openai/llm.ts';
import type { ChatChunk } from '../src/providers/types.ts';
import { resolveLLM } from '../src/providers/resolve.ts';
import { startLLMInference } from '../actors/llmInference.ts';
import { chunk, finish, startChatServer, toolChunk, usage } from './providerServers/sseChatServer.ts';

let server: Awaited<ReturnType<typeof startChatServer>>;
beforeEach(async () => (server = await startChatServer()));
afterEach(() => server.close());

const ctx = (text: string) => new ChatContext([createMessage('system', 'be brief'), createMessage('user', text)]);
const fast = { maxRetry: 3, retryInterval: 20, timeout: 2000 };
const llm = (o: Partial<ConstructorParameters<typeof OpenAILLM>[0]> = {}) =>
  new OpenAILLM({ model: 'test-model', apiKey: 'sk-test', baseURL: `${server.url}/v1`, connOptions: fast, ...o });
const collect = (obs: ReturnType<OpenAILLM['chat']>) => lastValueFrom(obs.pipe(toArray()));
const text = (cs: ChatChunk[]) => cs.map((c) => c.delta?.content ?? '').join('');

describe('OpenAILLM over a local SSE server', () => {
  it('streams text and usage, sending the model, messages, tools and tool choice', async () => {
    server.script.push({ kind: 'stream', chunks: [chunk('Hel'), chunk('lo!'), finish('stop'), usage(12, 3)] });
    const tool = functionTool({ name: 'get_time', description: 'time', execute: () => 'now' });
    const out = await collect(llm().chat({ chatCtx: ctx('hi'), tools: [tool], toolChoice: 'auto' }));
    expect(text(out)).toBe('Hello!');
    expect(out.at(-1)!.usage).toMatchObject({ promptTokens: 12, completionTokens: 3, totalTokens: 15 });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.body).toMatchObject({
      model: 'test-model',
      stream: true,
      stream_options: { include_usage: true },
      tool_choice: 'auto',
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }],
    });
    expect(req.body.tools[0]).toMatchObject({ type: 'function', function: { name: 'get_time', description: 'time' } });
  });

  it('accumulates parallel tool calls by index across chunks and emits them complete', async () => {
    server.script.push({
      kind: 'stream',
      chunks: [
        toolChunk(0, { name: 'get_weather', arguments: '' }, 'call_a'),
        toolChunk(0, { arguments: '{"ci' }),
        toolChunk(1, { name: 'get_time', arguments: '{}' }, 'call_b'),
        toolChunk(0, { arguments: 'ty": "Oslo"}' }),
        finish('tool_calls'),
      ],
    });
    const out = await collect(llm().chat({ chatCtx: ctx('weather?'), tools: [] }));
    const calls = out.flatMap((c) => c.delta?.toolCalls ?? []);
    expect(calls).toEqual([
      { callId: 'call_a', name: 'get_weather', arguments: '{"city": "Oslo"}' },
      { callId: 'call_b', name: 'get_time', arguments: '{}' },
    ]);
  });

  it('repairs truncated tool arguments when it can, passes hopeless ones through', async () => {
    server.script.push({ kind: 'stream', chunks: [toolChunk(0, { name: 'f', arguments: '{"a": "b", "n": [1, 2' }, 'call_x'), finish('tool_calls')] });
    const out = await collect(llm().chat({ chatCtx: ctx('x'), tools: [] }));
    expect(JSON.parse(out.flatMap((c) => c.delta?.toolCalls ?? [])[0]!.arguments)).toEqual({ a: 'b', n: [1, 2] });
    expect(repairJson('{"a": "unterminated')).toBe('{"a": "unterminated"}');
    expect(repairJson('{"a": 1,}')).toBe('{"a": 1}');
    expect(repairJson('not json at all')).toBe('not json at all');
  });

  it('retries a 500 and a 429 (honouring Retry-After) before the first token, reporting each as recoverable', async () => {
    server.script.push({ kind: 'status', status: 500 });
    server.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '0.05' } });
    server.script.push({ kind: 'stream', chunks: [chunk('ok'), finish('stop')] });
    const errors: Array<[string, boolean]> = [];
    const t = Date.now();
    const out = await collect(llm().chat({ chatCtx: ctx('x'), tools: [], onError: (e, r) => errors.push([(e as any).statusCode, r]) }));
    expect(text(out)).toBe('ok');
    expect(errors).toEqual([[500, true], [429, true]]);
    expect(Date.now() - t).toBeGreaterThanOrEqual(50);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after maxRetry and does not retry 4xx client errors', async () => {
    for (let i = 0; i < 4; i++) server.script.push({ kind: 'status', status: 503 });
    await expect(collect(llm().chat({ chatCtx: ctx('x'), tools: [] }))).rejects.toMatchObject({ statusCode: 503 });
    expect(server.requests).toHaveLength(4);
    server.script.push({ kind: 'status', status: 401, body: { error: { message: 'bad key' } } });
    await expect(collect(llm().chat({ chatCtx: ctx('x'), tools: [] }))).rejects.toMatchObject({ statusCode: 401, retryable: false });
    expect(server.requests).toHaveLength(5);
  });

  it('times out a silent server, and never retries once text was emitted (connection dropped mid-stream)', async () => {
    server.script.push({ kind: 'hang' });
    server.script.push({ kind: 'stream', chunks: [chunk('late but fine'), finish('stop')] });
    const out = await collect(llm({ connOptions: { ...fast, timeout: 150 } }).chat({ chatCtx: ctx('x'), tools: [] }));
    expect(text(out)).toBe('late but fine');
    expect(server.requests[0]!.closedEarly).toBe(true);

    server.script.push({ kind: 'stream', chunks: [chunk('partial '), chunk('more'), finish('stop')], dropAfter: 1, delayMs: 20 });
    const seen: string[] = [];
    await expect(
      lastValueFrom(llm().chat({ chatCtx: ctx('y'), tools: [] }).pipe(toArray()).pipe()).then(() => 'ok').catch(() => 'failed'),
    ).resolves.toBe('failed');
    void seen;
    expect(server.requests).toHaveLength(3); // no retry after "partial "
  });

  it('malformed SSE is an error, not a crash', async () => {
    server.script.push({ kind: 'stream', chunks: [], raw: ['data: {"id": "x", "choices": [{"delta": {"content": "a"}}]}\n\n', 'data: {not json\n\n'], noDone: true });
    await expect(collect(llm({ connOptions: { ...fast, maxRetry: 0 } }).chat({ chatCtx: ctx('x'), tools: [] }))).rejects.toBeInstanceOf(Error);
  });

  it('unsubscribing aborts the HTTP request at once', async () => {
    server.script.push({ kind: 'stream', chunks: [chunk('a'), chunk('b'), chunk('c'), finish('stop')], delayMs: 200 });
    const got: string[] = [];
    const sub = llm().chat({ chatCtx: ctx('x'), tools: [] }).subscribe((c) => c.delta?.content && got.push(c.delta.content));
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['a']);
    expect(server.requests[0]!.closedEarly).toBe(true);
  });
});

describe('GroqLLM and model strings', () => {
  it('groq-sdk talks to /openai/v1/chat/completions on the server root', async () => {
    server.script.push({ kind: 'stream', chunks: [chunk('groq says hi'), finish('stop')] });
    const g = new GroqLLM({ model: 'llama-3.3-70b-versatile', apiKey: 'gsk-test', baseURL: server.url, connOptions: fast });
    expect(text(await collect(g.chat({ chatCtx: ctx('x'), tools: [] })))).toBe('groq says hi');
    expect(server.requests[0]!.path).toBe('/openai/v1/chat/completions');
    expect(g.label).toBe('groq/llama-3.3-70b-versatile');
  });

  it('finish_reason ends the text at once: the TTS need not wait for the usage chunk and [DONE]', async () => {
    server.script.push({ kind: 'stream', chunks: [chunk('Hi'), finish('stop'), usage(1, 1)] });
    const chunks = await collect(llm().chat({ chatCtx: ctx('x'), tools: [] }));
    expect(chunks.map((c) => c.finishReason ?? (c.usage ? 'usage' : c.delta?.content))).toEqual(['Hi', 'stop', 'usage']);

    server.script.push({ kind: 'stream', chunks: [chunk('All done.'), finish('stop'), usage(5, 2)], delayMs: 60 });
    const gen = startLLMInference(llm(), { chatCtx: ctx('x'), tools: [] }, { onMetrics: () => {}, onError: () => {} });
    let serverStillWriting: boolean | undefined;
    gen.text$.subscribe({ complete: () => (serverStillWriting = server.requests[1]!.doneAt === undefined) });
    await gen.done;
    expect(gen.text).toBe('All done.');
    expect(serverStillWriting).toBe(true);
  });

  it('both SDKs send through a fetch given in the options (proxies, logging, timing)', async () => {
    server.script.push({ kind: 'stream', chunks: [chunk('one'), finish('stop')] }, { kind: 'stream', chunks: [chunk('two'), finish('stop')] });
    const seen: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => (seen.push(String(input instanceof Request ? input.url : input)), globalThis.fetch(input, init));
    expect(text(await collect(llm({ fetch }).chat({ chatCtx: ctx('x'), tools: [] })))).toBe('one');
    const g = new GroqLLM({ model: 'm', apiKey: 'gsk-test', baseURL: server.url, connOptions: fast, fetch });
    expect(text(await collect(g.chat({ chatCtx: ctx('x'), tools: [] })))).toBe('two');
    expect(seen).toEqual([`${server.url}/v1/chat/completions`, `${server.url}/openai/v1/chat/completions`]);
  });

  it('resolves provider/model strings and explains bad ones', () => {
    process.env.OPENAI_API_KEY ??= 'sk-dummy-for-construction';
    expect(resolveLLM('openai/gpt-4.1-mini')).toBeInstanceOf(OpenAILLM);
    expect(() => resolveLLM('acme/model')).toThrow(/unknown LLM provider "acme"/);
    expect(() => resolveLLM('gpt-4')).toThrow(/expected "provider\/model"/);
  });

  it('places every tool output right after its call, with a placeholder for calls still running', () => {
    const c = new ChatContext([
      createMessage('user', 'go'),
      { type: 'function_call', id: 'i1', callId: 'c1', name: 'a', arguments: '{}', createdAt: 1 },
      { type: 'function_call', id: 'i2', callId: 'c2', name: 'b', arguments: '{}', createdAt: 1 },
      createMessage('user', 'meanwhile'),
      { type: 'function_call_output', id: 'o1', callId: 'c1', name: 'a', output: 'A', isError: false, createdAt: 5 },
    ]);
    expect(toWireMessages(c)).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [expect.objectContaining({ id: 'c1' }), expect.objectContaining({ id: 'c2' })] },
      { role: 'tool', tool_call_id: 'c1', content: 'A' },
      { role: 'tool', tool_call_id: 'c2', content: TOOL_IN_PROGRESS },
      { role: 'user', content: 'meanwhile' },
    ]);
  });
});
