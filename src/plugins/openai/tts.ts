/**
 * OpenAI speech (`POST /audio/speech`, `response_format: 'pcm'`: raw 16-bit little-endian, 24 kHz, mono), streamed
 * frame by frame as the bytes arrive. The session feeds it sentence by sentence (TTSStreamAdapter), so the first
 * audio does not wait for the whole reply.
 */
import { Observable } from 'rxjs';
import type { APIConnectOptions } from '../../providers/retry.ts';
import { audioBody, synthesizeInPieces } from '../../tts/httpSpeech.ts';
import type OpenAI from 'openai';
import { AudioFrame } from '../../audio/frame.ts';
import { shortId } from '../../llm/ids.ts';
import { openaiClient, type HTTPClientOptions } from './client.ts';
import type { ProviderCallOptions, SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';

const RATE = 24000;
const FRAME_BYTES = (RATE / 50) * 2; // 20 ms
/** The speech endpoint's `input` limit. */
const MAX_INPUT_CHARS = 4096;
/** What a raw PCM body may be labelled as (servers differ); anything else (JSON, MP3, WAV...) is not our format. */
const PCM_TYPES = new Set(['audio/pcm', 'audio/l16', 'audio/raw', 'audio/x-raw', 'application/octet-stream', 'binary/octet-stream']);

export interface OpenAITTSOptions extends HTTPClientOptions {
  model?: string;
  voice?: string;
  /** Speaking style for gpt-4o-mini-tts. */
  instructions?: string;
  /** 0.25 to 4 (the API ignores it for gpt-4o-mini-tts; use `instructions` there). */
  speed?: number;
}

export class OpenAITTS implements TTS {
  readonly label: string;
  readonly sampleRate = RATE;
  readonly numChannels = 1;
  readonly capabilities: TTSCapabilities = { streaming: false, alignedTranscript: false };
  private readonly client: () => Promise<OpenAI>;
  private readonly conn: APIConnectOptions;

  constructor(readonly opts: OpenAITTSOptions = {}) {
    if (opts.speed !== undefined && !(opts.speed >= 0.25 && opts.speed <= 4)) throw new RangeError(`OpenAITTS: speed must be from 0.25 to 4, got ${opts.speed}`);
    ({ client: this.client, conn: this.conn } = openaiClient(opts, 'OpenAITTS'));
    this.label = `openai/${opts.model ?? 'gpt-4o-mini-tts'}:${opts.voice ?? 'alloy'}`;
  }

  synthesize(text: string, call?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return synthesizeInPieces(text, MAX_INPUT_CHARS, this.conn, call, (piece, signal) => this.request(piece, signal));
  }

  private request(input: string, signal: AbortSignal): Observable<SynthesizedAudio> {
    const body = {
      model: this.opts.model ?? 'gpt-4o-mini-tts',
      voice: this.opts.voice ?? 'alloy',
      input,
      response_format: 'pcm' as const,
      ...(this.opts.instructions ? { instructions: this.opts.instructions } : {}),
      ...(this.opts.speed !== undefined ? { speed: this.opts.speed } : {}),
    };
    return new Observable<SynthesizedAudio>((sub) => {
      const requestId = shortId('tts_');
      (async () => {
        const res = (await (await this.client()).audio.speech.create(body as never, { signal })) as unknown as Response;
        const audio = await audioBody(res, PCM_TYPES, 'PCM audio (s16le, 24 kHz)', this.label);
        let carry = new Uint8Array(0);
        const emit = (bytes: Uint8Array) => {
          const data = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
          sub.next({ frame: new AudioFrame(data, RATE, 1, data.length), requestId });
        };
        for await (const chunk of audio as unknown as AsyncIterable<Uint8Array>) {
          if (signal.aborted) return;
          const joined = new Uint8Array(carry.length + chunk.length);
          joined.set(carry);
          joined.set(chunk, carry.length);
          let off = 0;
          for (; off + FRAME_BYTES <= joined.length; off += FRAME_BYTES) emit(joined.subarray(off, off + FRAME_BYTES));
          carry = joined.slice(off); // a partial frame, possibly an odd byte, waits for the next chunk
        }
        // A lone trailing byte cannot be a sample: the body was cut mid-sample, drop it.
        if (carry.length >= 2) emit(carry.subarray(0, carry.length - (carry.length % 2)));
        sub.complete();
      })().catch((e) => !signal.aborted && sub.error(e));
    });
  }
}
