import Groq from 'groq-sdk';
import { OpenAICompatibleLLM, type OpenAICompatibleOptions } from '../openai/llm.ts';
import type { WireChunk } from '../openai/chatFormat.ts';
import { connectOptions } from '../../providers/retry.ts';

/** Groq's chat completions through groq-sdk (OpenAI wire format; its baseURL is the server root). */
export class GroqLLM extends OpenAICompatibleLLM {
  constructor(opts: OpenAICompatibleOptions) {
    const apiKey = opts.apiKey || process.env.GROQ_API_KEY;
    if (!apiKey) throw new Error('GroqLLM needs an API key: set GROQ_API_KEY or pass apiKey');
    const conn = connectOptions(opts.connOptions);
    const client = new Groq({ apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: conn.timeout, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
    super(`groq/${opts.model}`, opts.model, (body, signal) =>
      client.chat.completions.create(body as never, { signal }) as unknown as Promise<AsyncIterable<WireChunk>>,
    opts);
  }
}
