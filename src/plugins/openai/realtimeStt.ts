/**
 * Streaming STT over OpenAI's realtime transcription WebSocket: audio goes up as base64 PCM16 at 24 kHz,
 * interim (delta) and final transcripts come back per item, with the server's speech start/stop events.
 * Speaks the GA protocol (`session.update` with a `transcription` session) by default; `protocol: 'beta'` speaks the
 * older one (`OpenAI-Beta: realtime=v1`, `transcription_session.update`) for servers that have not moved on.
 */
import { Observable, type Subscription } from 'rxjs';
import WebSocket from 'ws';
import type { AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/operators.ts';
import { resample } from '../../audio/resample.ts';
import { APIConnectionError, APIError, APIStatusError, APITimeoutError } from '../../providers/errors.ts';
import { connectOptions, withOverrides, type APIConnectOptions } from '../../providers/retry.ts';
import type { SpeechEvent, STT, STTCapabilities, STTStreamOptions } from '../../providers/types.ts';
import { openaiKey } from './client.ts';

const RATE = 24000;
/** The server refuses to commit less than 100 ms of audio. */
const MIN_COMMIT_BYTES = (RATE / 10) * 2;

export interface RealtimeSTTOptions {
  /** `gpt-4o-transcribe` (default), `gpt-4o-mini-transcribe` or `whisper-1`. */
  model?: string;
  language?: string;
  apiKey?: string;
  /** https://api.openai.com/v1 by default; ws(s) is derived from it. */
  baseURL?: string;
  /** Let the server detect turns (default); false sends `turn_detection: null` and commits only when audio ends. */
  serverVad?: boolean;
  /** `timeout` bounds the connection and, when the audio ends, the wait for the last transcripts. */
  connOptions?: Partial<APIConnectOptions>;
  /** 'ga' (default) or 'beta' (the realtime=v1 transcription-session events). */
  protocol?: 'ga' | 'beta';
  /** Words to expect (names, jargon) or the transcript's style. */
  prompt?: string;
  /** The server's input noise reduction: `near_field` (headset) or `far_field` (laptop, room microphone). */
  noiseReduction?: 'near_field' | 'far_field';
}

type ServerEvent = {
  type?: string;
  item_id?: string;
  delta?: string;
  transcript?: string;
  error?: { message?: string; code?: string; type?: string };
};

export class OpenAIRealtimeSTT implements STT {
  readonly label: string;
  readonly capabilities: STTCapabilities = { streaming: true, interimResults: true };
  readonly url: string;
  private readonly apiKey: string;
  private readonly conn: APIConnectOptions;

  constructor(readonly opts: RealtimeSTTOptions = {}) {
    this.apiKey = openaiKey(opts, 'OpenAIRealtimeSTT');
    this.conn = connectOptions(opts.connOptions);
    const base = (opts.baseURL ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/^http/, 'ws').replace(/\/+$/, '');
    this.url = `${base}/realtime?intent=transcription`;
    this.label = `openai-realtime/${opts.model ?? 'gpt-4o-transcribe'}`;
  }

  /**
   * One socket per subscription. Audio that arrives while connecting is queued, not lost. When the audio completes,
   * the rest of the buffer is committed and the stream completes after the last pending transcript.
   * Unsubscribing closes the socket.
   */
  stream(audio: Observable<AudioFrame>, streamOpts?: STTStreamOptions): Observable<SpeechEvent> {
    return new Observable<SpeechEvent>((sub) => {
      const language = streamOpts?.language ?? this.opts.language;
      const conn = withOverrides(this.conn, streamOpts?.connOptions);
      const beta = this.opts.protocol === 'beta';
      const ws = new WebSocket(this.url, { headers: { Authorization: `Bearer ${this.apiKey}`, ...(beta ? { 'OpenAI-Beta': 'realtime=v1' } : {}) } });
      const queue: string[] = [];
      const interim = new Map<string, string>();
      /** Items committed (by the server's VAD or our commit) whose transcript has not come yet. */
      const pendingItems = new Set<string>();
      let uncommittedBytes = 0;
      let awaitingCommit = false;
      let draining = false;
      let finished = false;
      let audioSub: Subscription | null = null;
      let timer: ReturnType<typeof setTimeout> | null = null;

      const arm = (ms: number, err: () => Error) => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => fail(err()), ms);
      };
      const disarm = () => {
        if (timer) clearTimeout(timer);
        timer = null;
      };
      const armDrain = () =>
        arm(conn.timeout, () => new APITimeoutError(`${this.label}: the last transcript did not come within ${conn.timeout} ms after the audio ended`));
      const finish = () => {
        finished = true;
        disarm();
        audioSub?.unsubscribe();
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      };
      const fail = (e: Error) => {
        if (finished) return;
        finish();
        sub.error(e);
      };
      const send = (msg: object) => {
        const text = JSON.stringify(msg);
        if (ws.readyState === WebSocket.OPEN) ws.send(text);
        else queue.push(text);
      };
      const maybeDone = () => {
        if (!draining || awaitingCommit || pendingItems.size > 0 || finished) return;
        finish();
        sub.complete();
      };

      arm(conn.timeout, () => new APITimeoutError(`${this.label}: no connection to ${this.url} within ${conn.timeout} ms`));
      const transcription = { model: this.opts.model ?? 'gpt-4o-transcribe', ...(language ? { language } : {}), ...(this.opts.prompt ? { prompt: this.opts.prompt } : {}) };
      const turnDetection = this.opts.serverVad === false ? null : { type: 'server_vad' };
      const noise = this.opts.noiseReduction ? { type: this.opts.noiseReduction } : undefined;
      send(
        beta
          ? {
              type: 'transcription_session.update',
              session: { input_audio_format: 'pcm16', input_audio_transcription: transcription, turn_detection: turnDetection, ...(noise ? { input_audio_noise_reduction: noise } : {}) },
            }
          : {
              type: 'session.update',
              session: {
                type: 'transcription',
                audio: { input: { format: { type: 'audio/pcm', rate: RATE }, transcription, turn_detection: turnDetection, ...(noise ? { noise_reduction: noise } : {}) } },
              },
            },
      );
      // Subscribed at once: a hot (shared) input keeps flowing while the socket connects.
      audioSub = audio.pipe(toMono(), resample(RATE)).subscribe({
        next: (f) => {
          uncommittedBytes += f.data.byteLength;
          send({ type: 'input_audio_buffer.append', audio: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64') });
        },
        error: (e) => fail(e instanceof Error ? e : new Error(String(e))),
        complete: () => {
          draining = true;
          if (uncommittedBytes >= MIN_COMMIT_BYTES) {
            awaitingCommit = true;
            send({ type: 'input_audio_buffer.commit' });
          }
          // Still connecting: the connection timeout stands, and the drain timeout starts once open.
          if (ws.readyState === WebSocket.OPEN) armDrain();
          maybeDone();
        },
      });

      ws.on('open', () => {
        if (draining) armDrain();
        else disarm();
        for (const text of queue.splice(0)) ws.send(text);
      });
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        fail(new APIStatusError(`${this.label}: the server refused the WebSocket upgrade with HTTP ${status}`, { statusCode: status }));
      });
      ws.on('message', (raw, isBinary) => {
        let ev: ServerEvent;
        try {
          if (isBinary) throw new Error('binary');
          ev = JSON.parse(raw.toString());
        } catch {
          return fail(new APIError(`${this.label}: malformed message from the server: ${raw.toString().slice(0, 80)}`, { retryable: true }));
        }
        const item = ev.item_id ?? '';
        switch (ev.type) {
          case 'input_audio_buffer.speech_started':
            return sub.next({ type: 'start_of_speech' });
          case 'input_audio_buffer.speech_stopped':
            return sub.next({ type: 'end_of_speech' });
          case 'input_audio_buffer.committed':
            uncommittedBytes = 0;
            awaitingCommit = false;
            if (item) pendingItems.add(item);
            return maybeDone();
          case 'conversation.item.input_audio_transcription.delta': {
            const text = (interim.get(item) ?? '') + (ev.delta ?? '');
            interim.set(item, text);
            return sub.next({ type: 'interim_transcript', alternatives: [{ text, ...(language ? { language } : {}) }], requestId: item || undefined });
          }
          case 'conversation.item.input_audio_transcription.completed':
            interim.delete(item);
            pendingItems.delete(item);
            sub.next({ type: 'final_transcript', alternatives: [{ text: (ev.transcript ?? '').trim(), ...(language ? { language } : {}) }], requestId: item || undefined });
            return maybeDone();
          case 'conversation.item.input_audio_transcription.failed':
            // One utterance lost, the stream goes on: reported, and not retried by anyone.
            interim.delete(item);
            pendingItems.delete(item);
            streamOpts?.onError?.(new APIError(`${this.label}: transcription of ${item || 'an utterance'} failed: ${ev.error?.message ?? 'unknown error'}`, { retryable: false, body: ev.error }), false);
            return maybeDone();
          case 'error':
            // Committing a near-empty buffer at the end is harmless: there was nothing left to transcribe.
            if (draining && ev.error?.code === 'input_audio_buffer_commit_empty') {
              awaitingCommit = false;
              return maybeDone();
            }
            return fail(
              new APIError(`${this.label}: ${ev.error?.message ?? 'unknown error'}${ev.error?.code ? ` (${ev.error.code})` : ''}`, {
                retryable: !/invalid_api_key|insufficient_quota|invalid_request/.test(`${ev.error?.code} ${ev.error?.type}`),
                body: ev.error,
              }),
            );
        }
      });
      ws.on('error', (e) => fail(new APIConnectionError(`${this.label}: connection failed: ${e.message}`, { cause: e })));
      ws.on('close', (code, reason) => fail(new APIConnectionError(`${this.label}: the server closed the socket (${code} ${reason.toString()})`)));
      return finish;
    });
  }
}
