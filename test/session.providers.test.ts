/**
 * A session on the real plugins (openai SDK for chat and speech) against local servers speaking the wire
 * protocols: fallback between providers, provider errors as events, and interruption aborting HTTP at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, AgentSession, FallbackLLM } from '../src/index.ts';
import { OpenAILLM } from '../src/plugins/openai/llm.ts';
import { OpenAITTS } from '../src/plugins/openai/tts.ts';
import type { LLM } from '../src/providers/types.ts';
import { FakeAudioOutput, recordEvents } from '../src/testing/index.ts';
import { startAudioServer } from './providerServers/audioServer.ts';
import { chunk, finish, startChatServer } from './providerServers/sseChatServer.ts';
import { historyText } from './helpers/harness.ts';

type ChatServer = Awaited<ReturnType<typeof startChatServer>>;
let primary: ChatServer;
let backup: ChatServer;
let audio: Awaited<ReturnType<typeof startAudioServer>>;
beforeEach(async () => {
  [primary, backup, audio] = await Promise.all([startChatServer(), startChatServer(), startAudioServer()]);
});
afterEach(async () => {
  await Promise.all([primary.close(), backup.close(), audio.close()]);
});

const conn = { maxRetry: 0, retryInterval: 10, timeout: 3000 };
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

async function start(llm: LLM) {
  const session = new AgentSession({ vad: null, stt: null, llm, tts: new OpenAITTS({ apiKey: 'sk-t', baseURL: `${audio.url}/v1`, connOptions: conn }), userAwayTimeout: null });
  const output = new FakeAudioOutput();
  session.output.audio = output;
  const rec = recordEvents(session);
  await session.start({ agent: new Agent({ instructions: 'be brief' }) });
  return { session, output, rec };
}

describe('a session on the real plugins', () => {
  it('a failing primary LLM hands the turn to the backup; the error is a recoverable event; speech goes through the speech endpoint', async () => {
    primary.script.push({ kind: 'status', status: 500 });
    backup.script.push({ kind: 'stream', chunks: [chunk('Backup '), chunk('here.'), finish('stop')] });
    audio.script.push({ kind: 'pcm', samples: new Int16Array(2400), chunkBytes: 960 }); // 100 ms
    const llm = new FallbackLLM([
      new OpenAILLM({ model: 'primary', apiKey: 'sk-t', baseURL: `${primary.url}/v1`, connOptions: conn }),
      new OpenAILLM({ model: 'backup', apiKey: 'sk-t', baseURL: `${backup.url}/v1`, connOptions: conn }),
    ]);
    const { session, output, rec } = await start(llm);
    await session.generateReply({ userInput: 'hello' }).waitForPlayout();
    expect(historyText(session).slice(1)).toEqual(['user: hello', 'assistant: Backup here.']);
    expect(rec.of('error').map((e) => [e.source, e.recoverable, e.error.message.split(':')[0]])).toEqual([['llm', true, 'openai/primary failed, switching to the next provider']]);
    expect([primary.requests.length, backup.requests.length]).toEqual([1, 1]);
    expect(backup.requests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: 'hello' });
    expect(audio.requests.map((r) => r.json.input)).toEqual(['Backup here.']);
    expect(output.segments.map((s) => Math.round(s.pushedMs))).toEqual([100]);
    expect(session.lifecycle).toBe('running');
    await session.close();
  });

  it("a primary that hangs costs the fallback's attempt timeout, not the provider's own 10 s × 4 attempts", async () => {
    primary.script.push({ kind: 'hang' });
    backup.script.push({ kind: 'stream', chunks: [chunk('Still here.'), finish('stop')] });
    audio.script.push({ kind: 'pcm', samples: new Int16Array(2400), chunkBytes: 960 });
    const llm = new FallbackLLM(
      [
        new OpenAILLM({ model: 'primary', apiKey: 'sk-t', baseURL: `${primary.url}/v1` }), // default connOptions
        new OpenAILLM({ model: 'backup', apiKey: 'sk-t', baseURL: `${backup.url}/v1` }),
      ],
      { attemptTimeout: 300 },
    );
    const { session, rec } = await start(llm);
    const t0 = performance.now();
    await session.generateReply({ userInput: 'are you there' }).waitForPlayout();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(historyText(session).slice(1)).toEqual(['user: are you there', 'assistant: Still here.']);
    expect(primary.requests).toHaveLength(1); // no retries on the hung provider inside the adapter
    expect(primary.requests[0]!.closedEarly).toBe(true);
    expect(rec.of('error').map((e) => e.error.message)).toEqual([expect.stringMatching(/^openai\/primary failed, switching to the next provider: no response within 300 ms/)]);
    await session.close();
  });

  it('interrupting a reply aborts its chat request at once; what was never heard is not in the history', async () => {
    primary.script.push({ kind: 'stream', chunks: [chunk('This reply '), chunk('takes '), chunk('a long '), chunk('time.'), finish('stop')], delayMs: 300 });
    const { session, rec } = await start(new OpenAILLM({ model: 'primary', apiKey: 'sk-t', baseURL: `${primary.url}/v1`, connOptions: conn }));
    const handle = session.generateReply({ userInput: 'go on' });
    await until(() => primary.requests.length === 1);
    await session.interrupt();
    await until(() => primary.requests[0]!.closedEarly);
    expect(primary.requests[0]!.closedEarly).toBe(true);
    expect(handle.interrupted).toBe(true);
    expect(audio.requests).toHaveLength(0); // no sentence was complete, nothing was synthesized
    expect(historyText(session).slice(1)).toEqual(['user: go on']);
    expect(rec.of('error')).toEqual([]);
    await session.close();
  });
});
