import { toFile } from 'openai';
import { openaiClient } from './client.ts';
import type { APIConnectOptions } from '../../providers/retry.ts';
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
    const { client } = openaiClient(opts, 'OpenAISTT');
    super(`openai/${model}`, model, async (wav, fields, signal) =>
      client.audio.transcriptions.create({ file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), ...fields }, { signal }) as Promise<{ text?: string }>,
    opts);
  }
}
