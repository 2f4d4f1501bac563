import { lastValueFrom, Observable, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { readWav } from '../src/audio/wav.ts';
import { GroqSTT } from '../src/plugins/groq/stt.ts';
import type { APIError } from '../src/providers/errors.ts';
import type { VADEvent } from '../src/providers/types.ts';
import { STTStreamAdapter } from '../src/stt/streamAdapter.ts';
import { startAudioServer } from './providerServers/audioServer.ts';

let server: Awaited<ReturnType<typeof startAudioServer>>;
beforeEach(async () => (server = await startAudioServer()));
afterEach(() => server.close());
const fast = { maxRetry: 2, retryInterval: 20, timeout: 2000 };
// groq-sdk adds /openai/v1 itself: its baseURL is the server root.
const groq = (o: ConstructorParameters<typeof GroqSTT>[0] = {}) => new GroqSTT({ apiKey: 'gsk-test', baseURL: server.url, connOptions: fast, ...o });
const utterance = (ms: number) => [new AudioFrame(Int16Array.from({ length: 16 * ms }, (_, i) => (i % 80) * 200), 16000, 1, 16 * ms)];

describe('GroqSTT against a local transcription server', () => {
  it('uploads a WAV to /openai/v1/audio/transcriptions with whisper-large-v3-turbo and maps the transcript', async () => {
    server.script.push({ kind: 'transcript', text: ' Groq heard this. ' });
    const ev = await groq({ language: 'de', prompt: 'Groq' }).recognize(utterance(400));
    expect(ev).toEqual({ type: 'final_transcript', alternatives: [{ text: 'Groq heard this.', language: 'de' }] });
    const req = server.requests[0]!;
    expect(req.path).toBe('/openai/v1/audio/transcriptions');
    expect(req.headers.authorization).toBe('Bearer gsk-test');
    expect(req.fields).toEqual({ model: 'whisper-large-v3-turbo', language: 'de', prompt: 'Groq' });
    expect(req.file).toMatchObject({ name: 'speech.wav', type: 'audio/wav' });
    const decoded = await lastValueFrom(readWav(req.file!.bytes).pipe(toArray()));
    expect(decoded.reduce((n, f) => n + f.samplesPerChannel, 0)).toBe(6400);
  });

  it('retries a 500, reports it as recoverable, and does not retry a 401', async () => {
    server.script.push({ kind: 'status', status: 500 }, { kind: 'transcript', text: 'ok' });
    const errors: boolean[] = [];
    expect((await groq().recognize(utterance(100), { onError: (_e, r) => errors.push(r) })).alternatives![0]!.text).toBe('ok');
    expect(errors).toEqual([true]);
    server.script.push({ kind: 'status', status: 401, body: { error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    const err = await groq().recognize(utterance(100)).catch((e: APIError) => e);
    expect((err as APIError).statusCode).toBe(401);
    expect((err as APIError).message).toMatch(/Invalid API Key/);
    expect(server.requests).toHaveLength(3);
  });

  it('streams through the VAD adapter, and alone says it needs one', async () => {
    const g = groq({ model: 'whisper-large-v3' });
    expect(g.label).toBe('groq/whisper-large-v3');
    expect(() => g.stream()).toThrow(/STTStreamAdapter/);
    server.script.push({ kind: 'transcript', text: 'through the adapter' });
    const vad = {
      label: 'scripted-vad',
      stream: () =>
        new Observable<VADEvent>((sub) => {
          const base = { timestamp: 0, speechDuration: 0, silenceDuration: 0, inferenceDuration: 0, probability: 1 };
          sub.next({ ...base, type: 'start_of_speech', speaking: true });
          sub.next({ ...base, type: 'end_of_speech', speaking: false, frames: utterance(300) });
          sub.complete();
        }),
    };
    const events = await lastValueFrom(new STTStreamAdapter(g, vad).stream(new Observable()).pipe(toArray()));
    expect(events.map((e) => e.alternatives?.[0]?.text ?? e.type)).toEqual(['start_of_speech', 'through the adapter', 'end_of_speech']);
    expect(server.requests[0]!.fields.model).toBe('whisper-large-v3');
  });

  it('without a key construction fails naming GROQ_API_KEY', () => {
    const saved = process.env.GROQ_API_KEY;
    delete process.env.GROQ_API_KEY;
    try {
      expect(() => new GroqSTT()).toThrow(/GROQ_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.GROQ_API_KEY = saved;
    }
  });
});

const live = !!process.env.GROQ_API_KEY;
if (!live) console.info('skipping live Groq tests: GROQ_API_KEY not set');
describe.skipIf(!live)('GroqSTT live', () => {
  it('transcribes the shipped speech sample', async () => {
    const frames = await lastValueFrom(readWav('test/fixtures/speech-16k.wav').pipe(toArray()));
    const ev = await new GroqSTT().recognize(frames.slice(0, 250));
    expect(ev.alternatives![0]!.text.length).toBeGreaterThan(3);
  }, 30_000);
});
