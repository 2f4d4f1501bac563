/**
 * Provider overhead:
 * - llmTurn: final transcript → first TTS frame at the output, through the real OpenAI plugin (openai SDK, HTTP,
 *   SSE parsing) against a local server that answers at once, compared with the in-process instant LLM.
 * - sentenceStreaming: time to first audio for a 3-sentence reply with real Flite synthesis, streamed sentence by
 *   sentence (the TTS adapter) versus synthesizing the whole reply at once.
 */
import { lastValueFrom, Observable, take, toArray } from 'rxjs';
import { FliteTTS } from '../src/plugins/flite/index.ts';
import { OpenAILLM } from '../src/plugins/openai/llm.ts';
import { OpenAITTS } from '../src/plugins/openai/tts.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LLM, TTS } from '../src/providers/types.ts';
import { TTSStreamAdapter } from '../src/tts/streamAdapter.ts';
import { chunk, finish, startChatServer } from '../test/providerServers/sseChatServer.ts';
import { InstantLLM } from './lib/instant.ts';
import { measureTurns } from './lib/turns.ts';
import { round, summary } from './lib/stats.ts';

async function turnLatency(llm: LLM, turns: number, warmup: number, tts?: TTS) {
  return (await measureTurns(llm, warmup + turns, tts)).slice(warmup);
}

/** ms from sending a POST to its first response byte, over plain fetch. */
async function firstByte(url: string, body: unknown): Promise<number> {
  const t = performance.now();
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: JSON.stringify(body) });
  const reader = r.body!.getReader();
  await reader.read();
  const ms = performance.now() - t;
  await reader.cancel();
  return ms;
}

/** Words as an LLM streams them: one every `ms`. */
const wordsOverTime = (text: string, ms: number) => new Observable<string>((sub) => {
  const words = text.split(/(?<= )/);
  let i = 0;
  const id = setInterval(() => {
    sub.next(words[i++]!);
    if (i === words.length) clearInterval(id), sub.complete();
  }, ms);
  return () => clearInterval(id);
});

/** From the first LLM word to the first audio frame, the reply's words arriving at `wordMs` intervals. */
async function firstAudio(sentences: string[], runs: number, wordMs: number) {
  const tts = new FliteTTS();
  await lastValueFrom(tts.synthesize('Warm up.')); // compile the WASM once
  const text = sentences.join(' ');
  const whole: number[] = [];
  const streamed: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const all = await lastValueFrom(wordsOverTime(text, wordMs).pipe(toArray()));
    await lastValueFrom(tts.synthesize(all.join('')).pipe(take(1)));
    whole.push(performance.now() - t);
    t = performance.now();
    await lastValueFrom(new TTSStreamAdapter(tts).stream(wordsOverTime(text, wordMs)).pipe(take(1)));
    streamed.push(performance.now() - t);
  }
  return { wordIntervalMs: wordMs, words: text.split(' ').length, wholeReply: summary(whole), sentenceStreamed: summary(streamed) };
}

export default async function () {
  const server = await startChatServer();
  const turns = 100;
  const warmup = 400;
  for (let i = 0; i < turns + warmup; i++) server.script.push({ kind: 'stream', chunks: [chunk('Sure, here is the answer.'), finish('stop')] });
  const viaPlugin = await turnLatency(
    new OpenAILLM({ model: 'bench', apiKey: 'sk-bench', baseURL: `${server.url}/v1` }),
    turns,
    warmup,
  );
  const serverTimes = server.requests.slice(warmup).map((r) => (r.doneAt ?? r.receivedAt) - r.receivedAt);
  await server.close();
  // The same, with LLM and TTS servers in a separate process, so their work is not counted as ours.
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lib/serversProcess.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const urls = JSON.parse(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString())))) as { chat: string; audio: string };
  const outOfProcess = await turnLatency(
    new OpenAILLM({ model: 'bench', apiKey: 'sk-bench', baseURL: `${urls.chat}/v1` }),
    turns,
    warmup,
    new OpenAITTS({ apiKey: 'sk-bench', baseURL: `${urls.audio}/v1` }),
  );
  // What the same two requests cost as bare HTTP round trips (to the first byte), with no SDK and no session.
  const rawChat: number[] = [];
  const rawSpeech: number[] = [];
  for (let i = 0; i < 300; i++) {
    const c = await firstByte(`${urls.chat}/v1/chat/completions`, { model: 'bench', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const a = await firstByte(`${urls.audio}/v1/audio/speech`, { model: 'bench', voice: 'alloy', input: 'hi', response_format: 'pcm' });
    if (i >= 100) rawChat.push(c), rawSpeech.push(a);
  }
  child.stdin.end();
  const inProcess = await turnLatency(new InstantLLM(), turns, warmup);
  const sentences = [
    'Your table for two is booked for eight tonight.',
    'You will get a confirmation message in a minute.',
    'Is there anything else I can help you with today?',
  ];
  const p50 = (xs: number[]) => summary(xs).p50;
  return {
    llmTurn: {
      unit: 'ms',
      openaiLlmPluginInProcessServer: summary(viaPlugin),
      openaiLlmAndTtsPluginsServersInOwnProcess: summary(outOfProcess),
      inProcessInstantLLM: summary(inProcess),
      serverOwnTime: summary(serverTimes),
      llmPluginAddedBeyondServerP50: round(p50(viaPlugin) - p50(inProcess) - p50(serverTimes)),
      llmAndTtsPluginsAddedP50: round(p50(outOfProcess) - p50(inProcess)),
      rawHttpFirstByteP50: { chat: p50(rawChat), speech: p50(rawSpeech) },
      llmAndTtsAddedBeyondRawHttpP50: round(p50(outOfProcess) - p50(inProcess) - p50(rawChat) - p50(rawSpeech)),
      note: 'added = through the plugins minus the in-process instant LLM; in-process server time is subtracted; the out-of-process figure still includes loopback HTTP and the servers answering',
    },
    sentenceStreaming: { unit: 'ms', fliteFirstAudio: await firstAudio(sentences, 10, 25) },
  };
}
