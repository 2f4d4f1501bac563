/**
 * Groq speech (`POST /openai/v1/audio/speech`, Canopy Labs' Orpheus models) through groq-sdk. Groq returns WAV, not
 * raw PCM, so the body goes through the streaming WAV reader: frames leave as the bytes arrive, whatever the
 * header's length field says. Audio that comes back at another rate or channel count than asked for is converted,
 * so the session always gets the format this TTS declares.
 */
import { map, Observable } from 'rxjs';
import type { APIConnectOptions } from '../../providers/retry.ts';
import { audioBody, synthesizeInPieces } from '../../tts/httpSpeech.ts';
import type Groq from 'groq-sdk';
import { AudioFormatError, type AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/operators.ts';
import { resample } from '../../audio/resample.ts';
import { readWav } from '../../audio/wav.ts';
import { shortId } from '../../llm/ids.ts';
import { APIError } from '../../providers/errors.ts';
import type { ProviderCallOptions, SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';
import type { HTTPClientOptions } from '../openai/client.ts';
import { groqClient } from './client.ts';

/** Rates the endpoint accepts for `sample_rate`. */
const RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
const WAV_TYPES = new Set(['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave', 'application/octet-stream', 'binary/octet-stream']);

export interface GroqTTSOptions extends HTTPClientOptions {
  /** Default `canopylabs/orpheus-v1-english`. */
  model?: string;
  /** Default `autumn` (also diana, hannah, austin, daniel, troy for the English model). */
  voice?: string;
  /** Asked of the server and declared to the session (default 48000). */
  sampleRate?: (typeof RATES)[number];
  speed?: number;
  /** Characters per request; longer text becomes consecutive requests split at sentence ends (default 4000). */
  maxInputChars?: number;
}

export class GroqTTS implements TTS {
  readonly label: string;
  readonly sampleRate: number;
  readonly numChannels = 1;
  readonly capabilities: TTSCapabilities = { streaming: false, alignedTranscript: false };
  private readonly client: () => Promise<Groq>;
  private readonly conn: APIConnectOptions;

  constructor(readonly opts: GroqTTSOptions = {}) {
    ({ client: this.client, conn: this.conn } = groqClient(opts, 'GroqTTS'));
    this.sampleRate = opts.sampleRate ?? 48000;
    if (!RATES.includes(this.sampleRate as (typeof RATES)[number])) throw new Error(`GroqTTS: sampleRate must be one of ${RATES.join(', ')}`);
    this.label = `groq/${opts.model ?? 'canopylabs/orpheus-v1-english'}:${opts.voice ?? 'autumn'}`;
  }

  synthesize(text: string, call?: ProviderCallOptions): Observable<SynthesizedAudio> {
    return synthesizeInPieces(text, this.opts.maxInputChars ?? 4000, this.conn, call, (piece, signal) => this.request(piece, signal));
  }

  private request(input: string, signal: AbortSignal): Observable<SynthesizedAudio> {
    const body = {
      model: this.opts.model ?? 'canopylabs/orpheus-v1-english',
      voice: this.opts.voice ?? 'autumn',
      input,
      response_format: 'wav' as const,
      sample_rate: this.sampleRate,
      ...(this.opts.speed !== undefined ? { speed: this.opts.speed } : {}),
    };
    const requestId = shortId('tts_');
    return new Observable<AudioFrame>((sub) => {
      let inner: { unsubscribe(): void } | undefined;
      (async () => {
        const res = await (await this.client()).audio.speech.create(body as never, { signal });
        const audio = await audioBody(res, WAV_TYPES, 'WAV audio', this.label);
        if (signal.aborted) return;
        // A body that is not WAV, or an encoding the reader cannot take, is the server's fault and not retried.
        inner = readWav(audio as unknown as AsyncIterable<Uint8Array>).subscribe({
          next: (f) => sub.next(f),
          error: (e: Error) => !signal.aborted && sub.error(e instanceof AudioFormatError ? new APIError(`${this.label}: ${e.message}`, { retryable: false, cause: e }) : e),
          complete: () => sub.complete(),
        });
      })().catch((e) => !signal.aborted && sub.error(e));
      return () => inner?.unsubscribe();
    }).pipe(
      toMono(),
      resample(this.sampleRate), // passes frames through when the server kept to the asked rate
      map((frame) => ({ frame, requestId })),
    );
  }
}
