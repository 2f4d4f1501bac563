/**
 * OpenAI speech (`POST /audio/speech`, `response_format: 'pcm'`: raw 16-bit little-endian, 24 kHz, mono), streamed
 * frame by frame as the bytes arrive. The session feeds it sentence by sentence (TTSStreamAdapter), so the first
 * audio does not wait for the whole reply.
 */
import type OpenAI from 'openai';
import { Observable } from 'rxjs';
import { AudioFrame } from '../../audio/frame.ts';
import { shortId } from '../../llm/ids.ts';
import { APIError } from '../../providers/errors.ts';
import { withRetries, type APIConnectOptions } from '../../providers/retry.ts';
import { openaiClient } from './client.ts';
import type { ProviderCallOptions, SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';
import { markFinal } from '../../tts/markFinal.ts';

const RATE = 24000;
const FRAME_BYTES = (RATE / 50) * 2; // 20 ms

export interface OpenAITTSOptions {
  model?: string;
  voice?: string;
  /** Speaking style for gpt-4o-mini-tts. */
  instructions?: string;
  apiKey?: string;
  baseURL?: string;
  connOptions?: Partial<APIConnectOptions>;
}

export class OpenAITTS implements TTS {
  readonly label: string;
  readonly sampleRate = RATE;
  readonly numChannels = 1;
  readonly capabilities: TTSCapabilities = { streaming: false, alignedTranscript: false };
  private readonly client: OpenAI;
  private readonly conn: APIConnectOptions;

  constructor(readonly opts: OpenAITTSOptions = {}) {
    ({ client: this.client, conn: this.conn } = openaiClient(opts, 'OpenAITTS'));
    this.label = `openai/${opts.model ?? 'gpt-4o-mini-tts'}:${opts.voice ?? 'alloy'}`;
  }

  synthesize(text: string, call?: ProviderCallOptions): Observable<SynthesizedAudio> {
    const body = {
      model: this.opts.model ?? 'gpt-4o-mini-tts',
      voice: this.opts.voice ?? 'alloy',
      input: text,
      response_format: 'pcm' as const,
      ...(this.opts.instructions ? { instructions: this.opts.instructions } : {}),
    };
    return withRetries(
      (signal) =>
        new Observable<SynthesizedAudio>((sub) => {
          const requestId = shortId('tts_');
          (async () => {
            const res = (await this.client.audio.speech.create(body as never, { signal })) as unknown as Response;
            const type = res.headers.get('content-type') ?? '';
            if (/json|text|html/.test(type)) {
              throw new APIError(`expected PCM audio from ${this.label}, got ${type}: ${(await res.text()).slice(0, 200)}`, { retryable: false });
            }
            if (!res.body) throw new APIError(`empty audio response from ${this.label}`, { retryable: true });
            let carry = new Uint8Array(0);
            const emit = (bytes: Uint8Array) => {
              const data = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
              sub.next({ frame: new AudioFrame(data, RATE, 1, data.length), requestId });
            };
            for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
              if (signal.aborted) return;
              const joined = new Uint8Array(carry.length + chunk.length);
              joined.set(carry);
              joined.set(chunk, carry.length);
              let off = 0;
              for (; off + FRAME_BYTES <= joined.length; off += FRAME_BYTES) emit(joined.subarray(off, off + FRAME_BYTES));
              carry = joined.slice(off); // a partial frame, possibly an odd byte, waits for the next chunk
            }
            if (carry.length >= 2) emit(carry.subarray(0, carry.length - (carry.length % 2)));
            sub.complete();
          })().catch((e) => !signal.aborted && sub.error(e));
        }),
      this.conn,
      call?.onError,
    ).pipe(markFinal());
  }
}
