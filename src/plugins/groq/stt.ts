import Groq, { toFile } from 'groq-sdk';
import { connectOptions } from '../../providers/retry.ts';
import type { HTTPClientOptions } from '../openai/client.ts';
import { TranscriptionSTT } from '../openai/transcription.ts';

export class GroqSTT extends TranscriptionSTT {
  constructor(opts: { model?: string; language?: string; prompt?: string } & HTTPClientOptions = {}) {
    const model = opts.model ?? 'whisper-large-v3-turbo';
    const apiKey = opts.apiKey || process.env.GROQ_API_KEY;
    if (!apiKey) throw new Error('GroqSTT needs an API key: set GROQ_API_KEY or pass apiKey');
    const conn = connectOptions(opts.connOptions);
    const client = new Groq({ apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: conn.timeout, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
    super(`groq/${model}`, model, async (wav, fields, signal) =>
      client.audio.transcriptions.create({ file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), ...fields }, { signal }) as Promise<{ text?: string }>,
    opts);
  }
}
