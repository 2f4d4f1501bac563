/**
 * Request/response speech-to-text over the OpenAI transcription API (`POST /audio/transcriptions`, multipart),
 * shared by OpenAI and Groq. These recognize one utterance at a time: the session segments the audio with its VAD
 * (`STTStreamAdapter`).
 */
import { from, lastValueFrom, Observable, toArray } from 'rxjs';
import type { AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/operators.ts';
import { encodeWav } from '../../audio/wav.ts';
import { resample } from '../../audio/resample.ts';
import { APIError } from '../../providers/errors.ts';
import { connectOptions, withOverrides, withRetries, type APIConnectOptions } from '../../providers/retry.ts';
import type { SpeechEvent, STT, STTCapabilities, STTStreamOptions } from '../../providers/types.ts';

/** The transcription endpoints accept files up to 25 MB (OpenAI and Groq's free tier). */
const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

export type Transcribe = (wav: Uint8Array, fields: { model: string; language?: string; prompt?: string }, signal: AbortSignal) => Promise<{ text?: string; language?: string }>;

export class TranscriptionSTT implements STT {
  readonly capabilities: STTCapabilities = { streaming: false, interimResults: false };
  readonly conn: APIConnectOptions;

  constructor(
    readonly label: string,
    readonly model: string,
    private readonly transcribe: Transcribe,
    /** `prompt`: words to expect (names, jargon) or the style of the transcript, sent with every upload. */
    private readonly opts: { language?: string; prompt?: string; connOptions?: Partial<APIConnectOptions> } = {},
  ) {
    this.conn = connectOptions(opts.connOptions);
  }

  stream(): Observable<SpeechEvent> {
    throw new Error(`${this.label} recognizes whole utterances: it needs a VAD-segmenting adapter (new STTStreamAdapter(stt, vad); AgentSession does this when it has a VAD)`);
  }

  async recognize(frames: AudioFrame[], opts: STTStreamOptions & { signal?: AbortSignal } = {}): Promise<SpeechEvent> {
    const language = opts.language ?? this.opts.language;
    // Nothing to hear, nothing to upload (the API would reject an empty file).
    if (!frames.some((f) => f.samplesPerChannel > 0)) return { type: 'final_transcript', alternatives: [{ text: '', language }] };
    // One WAV needs one format: mono, at the first frame's rate (frames already at that rate pass through as is).
    const mono = await lastValueFrom(from(frames).pipe(toMono(), resample(frames[0]!.sampleRate), toArray()));
    const wav = encodeWav(mono);
    if (wav.length > MAX_UPLOAD_BYTES) {
      throw new APIError(`${this.label}: the utterance is ${(wav.length / 1e6).toFixed(1)} MB as WAV, over the transcription API's 25 MB limit`, { retryable: false });
    }
    const result = await lastValueFrom(
      withRetries(
        (signal) =>
          new Observable<{ text?: string; language?: string }>((sub) => {
            // Either our attempt's signal (timeout, unsubscribe) or the caller's cancels the upload.
            const both = opts.signal ? AbortSignal.any([signal, opts.signal]) : signal;
            this.transcribe(wav, { model: this.model, ...(language ? { language } : {}), ...(this.opts.prompt ? { prompt: this.opts.prompt } : {}) }, both).then(
              (r) => {
                if (typeof r?.text !== 'string') {
                  return sub.error(new APIError(`${this.label}: the transcription response has no text: ${JSON.stringify(r)?.slice(0, 200)}`, { retryable: false, body: r }));
                }
                sub.next(r);
                sub.complete();
              },
              // A body cut short or garbled by a proxy: worth another attempt, with a message that says what it was.
              (e) => sub.error(e instanceof SyntaxError ? new APIError(`${this.label}: malformed JSON in the transcription response (${e.message})`, { retryable: true, cause: e }) : e),
            );
          }),
        withOverrides(this.conn, opts.connOptions),
        opts.onError,
      ),
    );
    // An empty transcript is an answer too (noise, silence): the session ignores empty finals.
    return { type: 'final_transcript', alternatives: [{ text: result.text!.trim(), language: result.language ?? language }] };
  }
}
