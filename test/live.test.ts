/** Against the real services: these run only when the key is set (never in CI without keys). */
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChatContext, createMessage } from '../src/index.ts';
import { GroqLLM } from '../src/plugins/groq/llm.ts';
import { GroqTTS } from '../src/plugins/groq/tts.ts';
import { OpenAILLM } from '../src/plugins/openai/llm.ts';
import { OpenAITTS } from '../src/plugins/openai/tts.ts';

const openai = !!process.env.OPENAI_API_KEY;
const groq = !!process.env.GROQ_API_KEY;
if (!openai) console.info('skipping live OpenAI tests: OPENAI_API_KEY not set');
if (!groq) console.info('skipping live Groq tests: GROQ_API_KEY not set');
const ctx = new ChatContext([createMessage('user', 'Reply with exactly the word: pong')]);

describe.skipIf(!openai)('live OpenAI', () => {
  it('chat streams a reply', async () => {
    const out = await lastValueFrom(new OpenAILLM({ model: 'gpt-4.1-mini' }).chat({ chatCtx: ctx, tools: [] }).pipe(toArray()));
    expect(out.map((c) => c.delta?.content ?? '').join('').toLowerCase()).toContain('pong');
  }, 30_000);
  it('speech returns 24 kHz PCM', async () => {
    const out = await lastValueFrom(new OpenAITTS().synthesize('Hello.').pipe(toArray()));
    expect(out[0]!.frame.sampleRate).toBe(24000);
    expect(out.reduce((n, a) => n + a.frame.durationMs, 0)).toBeGreaterThan(200);
  }, 30_000);
});

describe.skipIf(!groq)('live Groq', () => {
  it('chat streams a reply', async () => {
    const out = await lastValueFrom(new GroqLLM({ model: 'llama-3.3-70b-versatile' }).chat({ chatCtx: ctx, tools: [] }).pipe(toArray()));
    expect(out.map((c) => c.delta?.content ?? '').join('').toLowerCase()).toContain('pong');
  }, 30_000);
  it('speech returns WAV read as 48 kHz mono frames', async () => {
    const out = await lastValueFrom(new GroqTTS().synthesize('Hello.').pipe(toArray()));
    expect(out.every((a) => a.frame.sampleRate === 48000 && a.frame.channels === 1)).toBe(true);
    expect(out.reduce((n, a) => n + a.frame.durationMs, 0)).toBeGreaterThan(200);
  }, 30_000);
});
