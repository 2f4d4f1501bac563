import type { AddressInfo } from 'node:net';
import { Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { AudioFrame } from '../src/audio/frame.ts';
import { OpenAIRealtimeSTT } from '../src/plugins/openai/realtimeStt.ts';
import type { SpeechEvent } from '../src/providers/types.ts';

/** Speaks the realtime transcription protocol: after 3 audio appends it "hears" a short utterance. */
let wss: WebSocketServer;
let url: string;
const received: Array<{ type: string; [k: string]: unknown }> = [];
let closed = 0;
let headers: Record<string, unknown> = {};
beforeEach(async () => {
  received.length = 0;
  closed = 0;
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}/v1`;
  wss.on('connection', (ws: WebSocket, req) => {
    headers = req.headers;
    let appends = 0;
    ws.on('close', () => closed++);
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      received.push(msg);
      if (msg.type !== 'input_audio_buffer.append') return;
      if (++appends !== 3) return;
      const send = (o: object) => ws.send(JSON.stringify(o));
      send({ type: 'input_audio_buffer.speech_started', item_id: 'it1' });
      send({ type: 'conversation.item.input_audio_transcription.delta', item_id: 'it1', delta: 'Hel' });
      send({ type: 'conversation.item.input_audio_transcription.delta', item_id: 'it1', delta: 'lo' });
      send({ type: 'input_audio_buffer.speech_stopped', item_id: 'it1' });
      send({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'it1', transcript: 'Hello.' });
    });
  });
});
afterEach(() => new Promise<void>((r) => wss.close(() => r())));

const frames = () =>
  new Observable<AudioFrame>((sub) => {
    let i = 0;
    const id = setInterval(() => (i++ < 10 ? sub.next(new AudioFrame(new Int16Array(320), 16000, 1, 320)) : clearInterval(id)), 5);
    return () => clearInterval(id);
  });

describe('OpenAIRealtimeSTT over a local WebSocket server', () => {
  it('configures the session, streams 24 kHz PCM16 and maps interim/final/speech events', async () => {
    const events: SpeechEvent[] = [];
    const stt = new OpenAIRealtimeSTT({ apiKey: 'sk-rt', baseURL: url, language: 'en' });
    const sub = stt.stream(frames()).subscribe((e) => events.push(e));
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => [e.type, e.alternatives?.[0]?.text])).toEqual([
      ['start_of_speech', undefined],
      ['interim_transcript', 'Hel'],
      ['interim_transcript', 'Hello'],
      ['end_of_speech', undefined],
      ['final_transcript', 'Hello.'],
    ]);
    expect(headers.authorization).toBe('Bearer sk-rt');
    expect(received[0]).toMatchObject({ type: 'transcription_session.update', session: { input_audio_format: 'pcm16', input_audio_transcription: { model: 'gpt-4o-transcribe', language: 'en' } } });
    const append = received.find((m) => m.type === 'input_audio_buffer.append')!;
    // 20 ms at 16 kHz became 20 ms at 24 kHz: 480 samples, 960 bytes (give or take the resampler's edges).
    const bytes = Buffer.from(append.audio as string, 'base64').length;
    expect(bytes).toBeGreaterThan(700);
    expect(bytes % 2).toBe(0);
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(1); // unsubscribing closed the socket
  });

  it('server error events and refused connections are errors', async () => {
    wss.removeAllListeners('connection');
    wss.on('connection', (ws: WebSocket) => ws.send(JSON.stringify({ type: 'error', error: { message: 'quota exceeded', code: 'insufficient_quota' } })));
    const err = await new Promise<Error>((resolve) => new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: url }).stream(frames()).subscribe({ error: resolve }));
    expect(err.message).toMatch(/quota exceeded/);
    const refused = await new Promise<Error>((resolve) => new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: 'http://127.0.0.1:1/v1' }).stream(frames()).subscribe({ error: resolve }));
    expect(refused.name).toBe('APIConnectionError');
  });
});
