import { openaiClient, openaiToFile as toFile, type HTTPClientOptions } from './client.ts';
import { TranscriptionSTT } from './transcription.ts';

export interface OpenAISTTOptions extends HTTPClientOptions {
  /** `gpt-4o-transcribe` (default), `gpt-4o-mini-transcribe` or `whisper-1`. */
  model?: string;
  language?: string;
  /** Words to expect (names, jargon) or the transcript's style. */
  prompt?: string;
}

export class OpenAISTT extends TranscriptionSTT {
  constructor(opts: OpenAISTTOptions = {}) {
    const model = opts.model ?? 'gpt-4o-transcribe';
    const { client } = openaiClient(opts, 'OpenAISTT');
    super(`openai/${model}`, model, async (wav, fields, signal) =>
      (await client()).audio.transcriptions.create({ file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }), ...fields }, { signal }) as Promise<{ text?: string }>,
    opts);
  }
}
