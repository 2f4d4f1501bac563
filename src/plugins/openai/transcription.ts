/**
 * Request/response speech-to-text over the OpenAI transcription API (`POST /audio/transcriptions`, multipart),
 * shared by OpenAI and Groq. These recognize one utterance at a time: the session segments the audio with its VAD
 * (`STTStreamAdapter`).
 */
import { from, lastValueFrom, Observable, toArray } from 'rxjs';
import type { AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/operators.ts';
import { encodeWav } from '../../audio/wav.ts';
import { connectOptions, withRetries, type APIConnectOptions } from '../../providers/retry.ts';
import type { SpeechEvent, STT, STTCapabilities, STTStreamOptions } from '../../providers/types.ts';

export type Transcribe = (wav: Uint8Array, fields: { model: string; language?: string }, signal: AbortSignal) => Promise<{ text?: string; language?: string }>;

export class TranscriptionSTT implements STT {
  readonly capabilities: STTCapabilities = { streaming: false, interimResults: false };
  readonly conn: APIConnectOptions;

  constructor(
    readonly label: string,
    readonly model: string,
    private readonly transcribe: Transcribe,
    private readonly opts: { language?: string; connOptions?: Partial<APIConnectOptions> } = {},
  ) {
    this.conn = connectOptions(opts.connOptions);
  }

  stream(): Observable<SpeechEvent> {
    throw new Error(`${this.label} recognizes whole utterances: it needs a VAD-segmenting adapter (new STTStreamAdapter(stt, vad); AgentSession does this when it has a VAD)`);
  }

  async recognize(frames: AudioFrame[], opts: STTStreamOptions & { signal?: AbortSignal } = {}): Promise<SpeechEvent> {
    const mono = await lastValueFrom(from(frames).pipe(toMono(), toArray()));
    const wav = encodeWav(mono);
    const language = opts.language ?? this.opts.language;
    const result = await lastValueFrom(
      withRetries(
        (signal) =>
          new Observable<{ text?: string; language?: string }>((sub) => {
            // Either our attempt's signal (timeout, unsubscribe) or the caller's cancels the upload.
            const both = opts.signal ? AbortSignal.any([signal, opts.signal]) : signal;
            this.transcribe(wav, { model: this.model, ...(language ? { language } : {}) }, both).then(
              (r) => (sub.next(r), sub.complete()),
              (e) => sub.error(e),
            );
          }),
        this.conn,
        opts.onError,
      ),
    );
    // An empty transcript is an answer too (noise, silence): the session ignores empty finals.
    return { type: 'final_transcript', alternatives: [{ text: (result.text ?? '').trim(), language: result.language ?? language }] };
  }
}
