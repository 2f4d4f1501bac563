/**
 * Streaming STT over OpenAI's realtime transcription WebSocket: audio goes up as base64 PCM16 at 24 kHz,
 * interim (delta) and final transcripts come back per item, with the server's speech start/stop events.
 */
import { Observable } from 'rxjs';
import WebSocket from 'ws';
import type { AudioFrame } from '../../audio/frame.ts';
import { toMono } from '../../audio/operators.ts';
import { resample } from '../../audio/resample.ts';
import { APIConnectionError, APIError } from '../../providers/errors.ts';
import type { SpeechEvent, STT, STTCapabilities, STTStreamOptions } from '../../providers/types.ts';
import { openaiKey } from './client.ts';

export interface RealtimeSTTOptions {
  model?: string;
  language?: string;
  apiKey?: string;
  /** https://api.openai.com/v1 by default; ws(s) is derived from it. */
  baseURL?: string;
  /** Let the server detect turns (default) or send null to only transcribe. */
  serverVad?: boolean;
}

export class OpenAIRealtimeSTT implements STT {
  readonly label: string;
  readonly capabilities: STTCapabilities = { streaming: true, interimResults: true };
  private readonly url: string;
  private readonly apiKey: string;

  constructor(readonly opts: RealtimeSTTOptions = {}) {
    this.apiKey = openaiKey(opts, 'OpenAIRealtimeSTT');
    const base = (opts.baseURL ?? 'https://api.openai.com/v1').replace(/^http/, 'ws').replace(/\/$/, '');
    this.url = `${base}/realtime?intent=transcription`;
    this.label = `openai-realtime/${opts.model ?? 'gpt-4o-transcribe'}`;
  }

  stream(audio: Observable<AudioFrame>, streamOpts?: STTStreamOptions): Observable<SpeechEvent> {
    return new Observable<SpeechEvent>((sub) => {
      const ws = new WebSocket(this.url, { headers: { Authorization: `Bearer ${this.apiKey}`, 'OpenAI-Beta': 'realtime=v1' } });
      const interim = new Map<string, string>();
      let audioSub: { unsubscribe(): void } | null = null;
      let closedByUs = false;
      const fail = (e: Error) => {
        if (closedByUs) return;
        closedByUs = true;
        audioSub?.unsubscribe();
        ws.terminate();
        sub.error(e);
      };
      ws.on('open', () => {
        const language = streamOpts?.language ?? this.opts.language;
        ws.send(
          JSON.stringify({
            type: 'transcription_session.update',
            session: {
              input_audio_format: 'pcm16',
              input_audio_transcription: { model: this.opts.model ?? 'gpt-4o-transcribe', ...(language ? { language } : {}) },
              turn_detection: this.opts.serverVad === false ? null : { type: 'server_vad' },
            },
          }),
        );
        audioSub = audio.pipe(toMono(), resample(24000)).subscribe({
          next: (f) => {
            if (ws.readyState !== WebSocket.OPEN) return;
            const b64 = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64');
            ws.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: b64 }));
          },
          error: (e) => fail(e instanceof Error ? e : new Error(String(e))),
        });
      });
      ws.on('message', (raw) => {
        let ev: { type?: string; item_id?: string; delta?: string; transcript?: string; error?: { message?: string; code?: string } };
        try {
          ev = JSON.parse(raw.toString());
        } catch {
          return fail(new APIError('malformed message from the realtime transcription server', { retryable: true }));
        }
        switch (ev.type) {
          case 'input_audio_buffer.speech_started':
            return sub.next({ type: 'start_of_speech' });
          case 'input_audio_buffer.speech_stopped':
            return sub.next({ type: 'end_of_speech' });
          case 'conversation.item.input_audio_transcription.delta': {
            const text = (interim.get(ev.item_id ?? '') ?? '') + (ev.delta ?? '');
            interim.set(ev.item_id ?? '', text);
            return sub.next({ type: 'interim_transcript', alternatives: [{ text }] });
          }
          case 'conversation.item.input_audio_transcription.completed':
            interim.delete(ev.item_id ?? '');
            return sub.next({ type: 'final_transcript', alternatives: [{ text: ev.transcript ?? '' }], requestId: ev.item_id });
          case 'error':
            return fail(new APIError(`realtime transcription error: ${ev.error?.message ?? 'unknown'}`, { retryable: ev.error?.code !== 'invalid_api_key' }));
        }
      });
      ws.on('error', (e) => fail(new APIConnectionError(`realtime transcription connection failed: ${e.message}`, { cause: e })));
      ws.on('close', (code, reason) => {
        if (!closedByUs) fail(new APIConnectionError(`realtime transcription socket closed (${code} ${reason.toString()})`));
      });
      return () => {
        closedByUs = true;
        audioSub?.unsubscribe();
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      };
    });
  }
}
