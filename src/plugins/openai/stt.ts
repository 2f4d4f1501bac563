import OpenAI, { toFile } from 'openai';
import { connectOptions, type APIConnectOptions } from '../../providers/retry.ts';
import { TranscriptionSTT } from './transcription.ts';

export interface OpenAISTTOptions {
  /** `gpt-4o-transcribe` (default), `gpt-4o-mini-transcribe` or `whisper-1`. */
  model?: string;
  language?: string;
  apiKey?: string;
  baseURL?: string;
  connOptions?: Partial<APIConnectOptions>;
}

export class OpenAISTT extends TranscriptionSTT {
  constructor(opts: OpenAISTTOptions = {}) {
    const model = opts.model ?? 'gpt-4o-transcribe';
    const apiKey = opts.apiKey || process.env.OPENAI_API_KEY || (opts.baseURL ? 'not-needed' : undefined);
    if (!apiKey) throw new Error('OpenAISTT needs an API key: set OPENAI_API_KEY or pass apiKey (or a baseURL for a local server)');
    const conn = connectOptions(opts.connOptions);
    const client = new OpenAI({ apiKey, baseURL: opts.baseURL ?? process.env.OPENAI_BASE_URL, maxRetries: 0, timeout: conn.timeout });
    super(`openai/${model}`, model, async (wav, fields, signal) =>
      client.audio.transcriptions.create({ file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), ...fields }, { signal }) as Promise<{ text?: string }>,
    opts);
  }
}
