import { OpenAICompatibleLLM, type OpenAICompatibleOptions } from '../openai/llm.ts';
import type { WireChunk } from '../openai/chatFormat.ts';
import { groqClient } from './client.ts';

/** Groq's chat completions through groq-sdk (OpenAI wire format; its baseURL is the server root). */
export class GroqLLM extends OpenAICompatibleLLM {
  constructor(opts: OpenAICompatibleOptions) {
    const { client } = groqClient(opts, 'GroqLLM');
    super(`groq/${opts.model}`, opts.model, (body, signal) =>
      client().then((c) => c.chat.completions.create(body as never, { signal }) as unknown as Promise<AsyncIterable<WireChunk>>),
    opts);
  }
}
