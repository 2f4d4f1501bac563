import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { OpenAIRealtimeSTT } from '../src/plugins/openai/realtimeStt.ts';
import type { APIError } from '../src/providers/errors.ts';
import type { SpeechEvent } from '../src/providers/types.ts';
import { startRealtimeServer, type RealtimeServerOptions } from './providerServers/realtimeServer.ts';

let server: Awaited<ReturnType<typeof startRealtimeServer>> | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const start = async (o: RealtimeServerOptions = {}) => (server = await startRealtimeServer(o));
const fast = { timeout: 2000 };

/** `count` frames of 20 ms at `rate`, one every 5 ms; completes after the last unless `endless`. */
const frames = (count: number, rate = 16000, endless = false) =>
  new Observable<AudioFrame>((sub) => {
    let i = 0;
    const n = rate / 50;
    const id = setInterval(() => {
      if (i++ < count) return sub.next(new AudioFrame(Int16Array.from({ length: n }, (_, k) => (k % 40) * 50), rate, 1, n));
      clearInterval(id);
      if (!endless) sub.complete();
    }, 5);
    return () => clearInterval(id);
  });
const summary = (events: SpeechEvent[]) => events.map((e) => (e.alternatives ? `${e.type}:${e.alternatives[0]!.text}` : e.type));
const errorOf = (o: Observable<unknown>) => new Promise<APIError>((resolve) => o.subscribe({ error: resolve }));
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('OpenAIRealtimeSTT over a local realtime transcription server', () => {
  it('configures the session, streams 24 kHz PCM16 and maps interim/final/speech events; unsubscribing closes the socket', async () => {
    const s = await start({ transcripts: ['Hello there.'], appendsPerUtterance: 3, apiKey: 'sk-rt' });
    const events: SpeechEvent[] = [];
    const sub = new OpenAIRealtimeSTT({ apiKey: 'sk-rt', baseURL: s.baseURL, language: 'en', prompt: 'Hello', noiseReduction: 'far_field', connOptions: fast })
      .stream(frames(10, 16000, true))
      .subscribe((e) => events.push(e));
    await until(() => events.some((e) => e.type === 'final_transcript'));
    // The first utterance, up to its final (the input goes on: a slow machine may already have seen the next one).
    const firstFinal = events.findIndex((e) => e.type === 'final_transcript');
    expect(summary(events.slice(0, firstFinal + 1))).toEqual(['start_of_speech', 'end_of_speech', 'interim_transcript:Hello ', 'interim_transcript:Hello there.', 'final_transcript:Hello there.']);
    expect(events[4]!.requestId).toBe('item_1');
    expect(events[4]!.alternatives![0]!.language).toBe('en');
    const c = s.connections[0]!;
    expect(c.url).toBe('/v1/realtime?intent=transcription');
    expect(c.headers.authorization).toBe('Bearer sk-rt');
    expect(c.headers['openai-beta']).toBeUndefined();
    expect(c.messages[0]).toEqual({
      type: 'session.update',
      session: {
        type: 'transcription',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24000 },
            transcription: { model: 'gpt-4o-transcribe', language: 'en', prompt: 'Hello' },
            turn_detection: { type: 'server_vad' },
            noise_reduction: { type: 'far_field' },
          },
        },
      },
    });
    // 20 ms at 16 kHz went up as 20 ms at 24 kHz: about 960 bytes (the resampler's filter delay shifts a few).
    const first = Buffer.from(String(c.messages.find((m) => m.type === 'input_audio_buffer.append')!.audio), 'base64');
    expect(first.length % 2).toBe(0);
    expect(first.length).toBeGreaterThan(800);
    expect(first.length).toBeLessThanOrEqual(960);
    expect(c.closed).toBe(false);
    sub.unsubscribe();
    await until(() => c.closed);
    expect(c.closed).toBe(true);
  });

  it('keeps the interim text of each item apart and queues audio sent while connecting', async () => {
    const s = await start({ transcripts: ['one two', 'three four'], appendsPerUtterance: 2 });
    const audio = new Subject<AudioFrame>();
    const events: SpeechEvent[] = [];
    const sub = new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, connOptions: fast }).stream(audio).subscribe((e) => events.push(e));
    // Sent synchronously, before the socket can be open: 4 frames of 20 ms at 24 kHz (passed through as is).
    for (let i = 0; i < 4; i++) audio.next(new AudioFrame(new Int16Array(480), 24000, 1, 480));
    await until(() => events.filter((e) => e.type === 'final_transcript').length === 2);
    expect(s.connections[0]!.audioBytes).toBe(4 * 960);
    expect(summary(events.filter((e) => e.type !== 'start_of_speech' && e.type !== 'end_of_speech'))).toEqual([
      'interim_transcript:one ', 'interim_transcript:one two', 'final_transcript:one two',
      'interim_transcript:three ', 'interim_transcript:three four', 'final_transcript:three four',
    ]);
    sub.unsubscribe();
  });

  it('without server VAD, the end of the audio commits the rest and the stream completes after its transcript', async () => {
    const s = await start({ transcripts: ['the last words'], transcriptDelayMs: 30 });
    const stt = new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, serverVad: false, connOptions: fast });
    const events = await lastValueFrom(stt.stream(frames(8, 24000)).pipe(toArray()));
    expect(summary(events).at(-1)).toBe('final_transcript:the last words');
    const c = s.connections[0]!;
    expect(c.messages[0]).toMatchObject({ type: 'session.update', session: { audio: { input: { turn_detection: null } } } });
    expect(c.messages.at(-1)!.type).toBe('input_audio_buffer.commit');
    await until(() => c.closed);
    expect(c.closed).toBe(true);
    // Less than the 100 ms the server can commit: nothing to send, the stream just completes.
    expect(await lastValueFrom(stt.stream(frames(2, 24000)).pipe(toArray()))).toEqual([]);
    expect(s.connections[1]!.messages.some((m) => m.type === 'input_audio_buffer.commit')).toBe(false);
  });

  it("protocol 'beta' speaks the realtime=v1 transcription-session dialect; the server refuses a mixed one", async () => {
    const s = await start({ transcripts: ['beta words'], transcriptDelayMs: 5 });
    const stt = new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, serverVad: false, protocol: 'beta', connOptions: fast });
    const events = await lastValueFrom(stt.stream(frames(8, 24000)).pipe(toArray()));
    expect(summary(events).at(-1)).toBe('final_transcript:beta words');
    const c = s.connections[0]!;
    expect(c.headers['openai-beta']).toBe('realtime=v1');
    expect(c.messages[0]).toEqual({
      type: 'transcription_session.update',
      session: { input_audio_format: 'pcm16', input_audio_transcription: { model: 'gpt-4o-transcribe' }, turn_detection: null },
    });
    // The local server is strict, so a plugin mixing the dialects would fail these tests: beta header + GA event.
    const ws = new WebSocket(`${s.baseURL.replace('http', 'ws')}/realtime?intent=transcription`, { headers: { 'OpenAI-Beta': 'realtime=v1' } });
    const got: Array<{ type: string; error?: { message: string } }> = [];
    ws.on('message', (m) => got.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ type: 'session.update', session: { type: 'transcription' } }));
    await until(() => got.length === 2);
    expect(got.map((e) => e.type)).toEqual(['transcription_session.created', 'error']);
    expect(got[1]!.error!.message).toMatch(/unexpected session.update/);
    ws.close();
  });

  it('a failed transcription of one utterance is reported and the stream goes on', async () => {
    const s = await start({ transcripts: ['lost', 'kept'], appendsPerUtterance: 2, failure: { kind: 'transcription_failed' } });
    const errors: Array<[string, boolean]> = [];
    const finals: string[] = [];
    const sub = new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, connOptions: fast })
      .stream(frames(6, 24000, true), { onError: (e, recoverable) => errors.push([e.message, recoverable]) })
      .subscribe((e) => e.type === 'final_transcript' && finals.push(e.alternatives![0]!.text));
    await until(() => finals.length > 0);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toMatch(/transcription of item_1 failed: audio could not be decoded/);
    expect(errors[0]![1]).toBe(false);
    expect(finals).toEqual(['kept']);
    sub.unsubscribe();
  });

  it('server error events, refused upgrades, bad messages and dropped sockets are stream errors', async () => {
    let s = await start({ failure: { kind: 'error_event', code: 'insufficient_quota', message: 'You exceeded your quota', type: 'insufficient_quota' } });
    let err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, connOptions: fast }).stream(frames(5)));
    expect(err.message).toMatch(/You exceeded your quota \(insufficient_quota\)/);
    expect(err.retryable).toBe(false);
    await s.close();

    s = await start({ apiKey: 'right-key' });
    err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'wrong-key', baseURL: s.baseURL, connOptions: fast }).stream(frames(5)));
    expect(err.name).toBe('APIStatusError');
    expect(err.statusCode).toBe(401);
    expect(err.retryable).toBe(false);
    await s.close();

    s = await start({ failure: { kind: 'garbage' } });
    err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, connOptions: fast }).stream(frames(5)));
    expect(err.message).toMatch(/malformed message from the server: <html>502/);
    await s.close();

    s = await start({ failure: { kind: 'drop' } });
    err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, connOptions: fast }).stream(frames(5, 16000, true)));
    expect(err.name).toBe('APIConnectionError');
    expect(err.message).toMatch(/closed the socket \(1011 internal error\)/);

    err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: 'http://127.0.0.1:1/v1', connOptions: fast }).stream(frames(5)));
    expect(err.name).toBe('APIConnectionError');
    expect(err.retryable).toBe(true);
  });

  it('times out when the upgrade is never answered, or the last transcript never comes', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: `http://127.0.0.1:${port}/v1`, connOptions: { timeout: 100 } }).stream(frames(5)));
      expect(err.name).toBe('APITimeoutError');
      expect(err.message).toMatch(/no connection .* within 100 ms/);
    } finally {
      silent.close();
    }
    // Connected, but the last transcript never comes after the audio ended: a timeout too, not a hang.
    const s = await start({ transcriptDelayMs: 60_000 });
    const err = await errorOf(new OpenAIRealtimeSTT({ apiKey: 'k', baseURL: s.baseURL, serverVad: false, connOptions: { timeout: 100 } }).stream(frames(8, 24000)));
    expect(err.name).toBe('APITimeoutError');
    expect(err.message).toMatch(/last transcript did not come within 100 ms/);
  });

  it('needs a key unless given a local baseURL', () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => new OpenAIRealtimeSTT()).toThrow(/OPENAI_API_KEY/);
      expect(new OpenAIRealtimeSTT({ baseURL: 'https://example.test/v1' }).url).toBe('wss://example.test/v1/realtime?intent=transcription');
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});
