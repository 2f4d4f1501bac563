import type { HTTPClientOptions } from '../openai/client.ts';
import { TranscriptionSTT } from '../openai/transcription.ts';
import { groqClient, groqToFile as toFile } from './client.ts';

export class GroqSTT extends TranscriptionSTT {
  constructor(opts: { model?: string; language?: string; prompt?: string } & HTTPClientOptions = {}) {
    const model = opts.model ?? 'whisper-large-v3-turbo';
    const { client } = groqClient(opts, 'GroqSTT');
    super(`groq/${model}`, model, async (wav, fields, signal) =>
      (await client()).audio.transcriptions.create({ file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), ...fields }, { signal }) as Promise<{ text?: string }>,
    opts);
  }
}
