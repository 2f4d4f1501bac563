/**
 * Provider overhead:
 * - llmTurn: final transcript → first TTS frame at the output, through the real OpenAI LLM and TTS plugins (openai
 *   SDK, HTTP, SSE parsing, PCM framing) against local servers in their own process that answer at once. Each turn
 *   is split into the servers' share (waiting for response headers) and the framework's (everything else).
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

/** A fetch that adds up, per turn, the time spent waiting for response headers: the servers' share of a turn. */
function timedFetch() {
  let waited = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const t = performance.now();
    try {
      return await globalThis.fetch(input, init);
    } finally {
      waited += performance.now() - t;
    }
  };
  return { fetch, read: () => waited, reset: () => (waited = 0) };
}

/**
 * Heap growth per turn over a long session through the real plugins (GC'd heap at turn 1000 and at the end). The
 * session keeps its full history (two messages a turn, with their metrics); a second run clears it each turn, so
 * what remains is anything else a turn leaves behind, which should be nothing.
 */
async function heapPerTurn(urls: { chat: string; audio: string }, turns = 4000) {
  const heap = () => (globalThis.gc?.(), globalThis.gc?.(), process.memoryUsage().heapUsed);
  const run = async (clearHistory: boolean) => {
    let at1000 = 0;
    let atEnd = 0;
    const llm = new OpenAILLM({ model: 'bench', apiKey: 'sk-bench', baseURL: `${urls.chat}/v1` });
    const tts = new OpenAITTS({ apiKey: 'sk-bench', baseURL: `${urls.audio}/v1` });
    await measureTurns(llm, turns, tts, {
      afterTurn: (session, n) => {
        if (clearHistory) session.history.items.splice(0);
        if (n === 1000) at1000 = heap();
        if (n === turns) atEnd = heap();
      },
    });
    return round((atEnd - at1000) / (turns - 1000));
  };
  if (!globalThis.gc) return { error: 'run with node --expose-gc (npm run bench does)' };
  return { unit: 'bytes per turn', turns, withHistory: await run(false), historyCleared: await run(true) };
}

export default async function () {
  const turns = 100;
  const warmup = 400;
  // LLM and TTS servers in a separate process, so their work is not counted as ours. Per turn, the time between
  // handing each request to fetch and its response headers arriving (loopback, the servers' wake-up and answer,
  // undici) is the servers' share; the rest of the turn is the framework's: the session, the SDKs building
  // requests and parsing responses, sentence splitting, text transforms, PCM framing and the output path.
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lib/serversProcess.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const urls = JSON.parse(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString())))) as { chat: string; audio: string };
  const split = async (tts: (fetch: typeof globalThis.fetch) => TTS | undefined) => {
    const net = timedFetch();
    const waits: number[] = [];
    const llm = new OpenAILLM({ model: 'bench', apiKey: 'sk-bench', baseURL: `${urls.chat}/v1`, fetch: net.fetch });
    const total = await measureTurns(llm, warmup + turns, tts(net.fetch), { beforeTurn: net.reset, afterFirstFrame: () => waits.push(net.read()) });
    const t = total.slice(warmup);
    const w = waits.slice(warmup);
    return { turn: summary(t), serversShare: summary(w), frameworkShare: summary(t.map((x, i) => x - w[i]!)) };
  };
  const llmOnly = await split(() => undefined);
  const llmAndTts = await split((fetch) => new OpenAITTS({ apiKey: 'sk-bench', baseURL: `${urls.audio}/v1`, fetch }));
  // What the same two requests cost as bare HTTP round trips (to the first byte), with no SDK and no session.
  const rawChat: number[] = [];
  const rawSpeech: number[] = [];
  for (let i = 0; i < 300; i++) {
    const c = await firstByte(`${urls.chat}/v1/chat/completions`, { model: 'bench', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const a = await firstByte(`${urls.audio}/v1/audio/speech`, { model: 'bench', voice: 'alloy', input: 'hi', response_format: 'pcm' });
    if (i >= 100) rawChat.push(c), rawSpeech.push(a);
  }
  const soak = await heapPerTurn(urls);
  child.stdin.end();
  const inProcess = await turnLatency(new InstantLLM(), turns, warmup);
  const sentences = [
    'Your table for two is booked for eight tonight.',
    'You will get a confirmation message in a minute.',
    'Is there anything else I can help you with today?',
  ];
  return {
    llmTurn: {
      unit: 'ms',
      openaiLlmPluginInstantTts: llmOnly,
      openaiLlmAndTtsPlugins: llmAndTts,
      inProcessInstantLLM: summary(inProcess),
      rawHttpFirstByte: { chat: summary(rawChat), speech: summary(rawSpeech) },
      frameworkShareP50: llmAndTts.frameworkShare.p50,
      pluginsAddedP50: round(llmAndTts.frameworkShare.p50 - summary(inProcess).p50),
      target: 'frameworkShareP50 ≤ 2',
      note:
        'per turn: final transcript → first frame at the output; serversShare = time the requests waited for response headers (servers in their own process); frameworkShare = the rest: the whole session path (inProcessInstantLLM alone), both SDKs, text pipeline, PCM framing. pluginsAdded = frameworkShare minus the instant-provider turn. rawHttpFirstByte: back-to-back bare fetches, for scale (hot processes answer faster than after the idle gaps between turns)',
    },
    heapPerTurn: soak,
    sentenceStreaming: { unit: 'ms', fliteFirstAudio: await firstAudio(sentences, 10, 25) },
  };
}
