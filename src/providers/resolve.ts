/**
 * Model strings: `provider/model[:voice]`, e.g. `openai/gpt-4.1-mini`, `groq/llama-3.3-70b-versatile`.
 * Keys come from the environment (OPENAI_API_KEY, GROQ_API_KEY); objects pass through unchanged.
 */
import { GroqLLM } from '../plugins/groq/llm.ts';
import { GroqSTT } from '../plugins/groq/stt.ts';
import { GroqTTS } from '../plugins/groq/tts.ts';
import { OpenAILLM } from '../plugins/openai/llm.ts';
import { OpenAISTT } from '../plugins/openai/stt.ts';
import { OpenAITTS } from '../plugins/openai/tts.ts';
import type { LLM, STT, TTS } from './types.ts';

function parse(kind: string, s: string): { provider: string; model: string; voice?: string } {
  const m = /^([a-z0-9-]+)\/([^:]+)(?::(.+))?$/.exec(s.trim());
  if (!m) throw new Error(`invalid ${kind} model string ${JSON.stringify(s)}: expected "provider/model" (e.g. "openai/gpt-4.1-mini")`);
  return { provider: m[1]!, model: m[2]!, voice: m[3] };
}

export function resolveLLM(x: LLM | string): LLM {
  if (typeof x !== 'string') return x;
  const { provider, model } = parse('LLM', x);
  if (provider === 'openai') return new OpenAILLM({ model });
  if (provider === 'groq') return new GroqLLM({ model });
  throw new Error(`unknown LLM provider "${provider}" in ${JSON.stringify(x)}: supported are openai/…, groq/… (or pass an LLM object)`);
}

export function resolveSTT(x: STT | string): STT {
  if (typeof x !== 'string') return x;
  const { provider, model } = parse('STT', x);
  if (provider === 'openai') return new OpenAISTT({ model });
  if (provider === 'groq') return new GroqSTT({ model });
  throw new Error(`unknown STT provider "${provider}" in ${JSON.stringify(x)}: supported are openai/…, groq/… (or pass an STT object)`);
}

/** `<provider>/<model>:<voice>`, e.g. `openai/gpt-4o-mini-tts:alloy`, `groq/canopylabs/orpheus-v1-english:autumn`. */
export function resolveTTS(x: TTS | string): TTS {
  if (typeof x !== 'string') return x;
  const { provider, model, voice } = parse('TTS', x);
  if (provider === 'openai') return new OpenAITTS({ model, voice });
  if (provider === 'groq') return new GroqTTS({ model, voice });
  throw new Error(`unknown TTS provider "${provider}" in ${JSON.stringify(x)}: supported are openai/<model>:<voice>, groq/<model>:<voice> (or pass a TTS object)`);
}
