import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { readWav } from '../src/audio/wav.ts';
import { GroqSTT } from '../src/plugins/groq/stt.ts';
import { OpenAISTT } from '../src/plugins/openai/stt.ts';
import { OpenAITTS } from '../src/plugins/openai/tts.ts';
import { resolveSTT, resolveTTS } from '../src/providers/resolve.ts';
import { startAudioServer } from './providerServers/audioServer.ts';

let server: Awaited<ReturnType<typeof startAudioServer>>;
beforeEach(async () => (server = await startAudioServer()));
afterEach(() => server.close());
const fast = { maxRetry: 2, retryInterval: 20, timeout: 2000 };
const utterance = (ms: number, rate = 16000) => [new AudioFrame(Int16Array.from({ length: (rate * ms) / 1000 }, (_, i) => (i % 50) * 100), rate, 1, (rate * ms) / 1000)];

describe('OpenAI / Groq transcription', () => {
  it('uploads the utterance as a WAV file (multipart) with model and language, and maps the transcript', async () => {
    server.script.push({ kind: 'transcript', text: ' hello world ' });
    const stt = new OpenAISTT({ apiKey: 'sk', baseURL: `${server.url}/v1`, language: 'en', connOptions: fast });
    const ev = await stt.recognize(utterance(500));
    expect(ev).toEqual({ type: 'final_transcript', alternatives: [{ text: 'hello world', language: 'en' }] });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(req.fields).toMatchObject({ model: 'gpt-4o-transcribe', language: 'en' });
    expect(req.file).toMatchObject({ name: 'speech.wav', type: 'audio/wav' });
    const decoded = await lastValueFrom(readWav(req.file!.bytes).pipe(toArray()));
    expect(decoded.reduce((n, f) => n + f.samplesPerChannel, 0)).toBe(8000);
  });

  it('retries a 503, returns an empty transcript as an empty final, and groq-sdk uses /openai/v1', async () => {
    server.script.push({ kind: 'status', status: 503 }, { kind: 'transcript', text: '' });
    const errors: boolean[] = [];
    const ev = await new OpenAISTT({ apiKey: 'sk', baseURL: `${server.url}/v1`, connOptions: fast }).recognize(utterance(100), { onError: (_e, r) => errors.push(r) });
    expect(ev.alternatives![0]!.text).toBe('');
    expect(errors).toEqual([true]);
    server.script.push({ kind: 'transcript', text: 'groq heard this' });
    const g = new GroqSTT({ apiKey: 'gsk', baseURL: server.url, connOptions: fast });
    expect((await g.recognize(utterance(100))).alternatives![0]!.text).toBe('groq heard this');
    expect(server.requests.at(-1)!.path).toBe('/openai/v1/audio/transcriptions');
    expect(server.requests.at(-1)!.fields.model).toBe('whisper-large-v3-turbo');
    expect(() => g.stream()).toThrow(/VAD-segmenting adapter/);
  });
});

describe('OpenAI TTS (PCM)', () => {
  it('streams 20 ms frames as bytes arrive, across odd-sized chunks, last frame final', async () => {
    const samples = Int16Array.from({ length: 24000 }, (_, i) => (i * 7) % 3000);
    server.script.push({ kind: 'pcm', samples, chunkBytes: 1001, delayMs: 2 });
    const tts = new OpenAITTS({ apiKey: 'sk', baseURL: `${server.url}/v1`, voice: 'nova', connOptions: fast });
    const out = await lastValueFrom(tts.synthesize('Hello there.').pipe(toArray()));
    expect(out.every((a) => a.frame.sampleRate === 24000)).toBe(true);
    const all = Int16Array.from(out.flatMap((a) => [...a.frame.data]));
    expect(all).toEqual(samples); // odd byte counts were carried across chunks, nothing lost or shifted
    expect(out.filter((a) => a.final)).toHaveLength(1);
    expect(out.at(-1)!.final).toBe(true);
    expect(server.requests[0]!.json).toMatchObject({ model: 'gpt-4o-mini-tts', voice: 'nova', input: 'Hello there.', response_format: 'pcm' });
  });

  it('the first frame arrives before the body is complete; unsubscribing aborts the request', async () => {
    server.script.push({ kind: 'pcm', samples: new Int16Array(24000 * 3), chunkBytes: 960, delayMs: 20 });
    const tts = new OpenAITTS({ apiKey: 'sk', baseURL: `${server.url}/v1`, connOptions: fast });
    const t0 = performance.now();
    let firstAt = 0;
    await new Promise<void>((resolve) => {
      const sub = tts.synthesize('long text').subscribe(() => {
        if (!firstAt) {
          firstAt = performance.now() - t0;
          setTimeout(() => (sub.unsubscribe(), resolve()), 30);
        }
      });
    });
    expect(firstAt).toBeLessThan(1000); // the whole body takes ~3 s to arrive
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests[0]!.closedEarly).toBe(true);
  });

  it('a JSON error body instead of audio is a clear error', async () => {
    server.script.push({ kind: 'pcm', samples: new Int16Array(4), chunkBytes: 8, contentType: 'application/json' });
    await expect(lastValueFrom(new OpenAITTS({ apiKey: 'sk', baseURL: `${server.url}/v1`, connOptions: fast }).synthesize('x'))).rejects.toThrow(/expected PCM audio/);
  });

  it('model strings resolve to the plugins', () => {
    process.env.OPENAI_API_KEY ||= 'sk-dummy';
    process.env.GROQ_API_KEY ||= 'gsk-dummy';
    expect(resolveSTT('groq/whisper-large-v3-turbo')).toBeInstanceOf(GroqSTT);
    expect(resolveSTT('openai/gpt-4o-transcribe')).toBeInstanceOf(OpenAISTT);
    const tts = resolveTTS('openai/gpt-4o-mini-tts:alloy');
    expect(tts).toBeInstanceOf(OpenAITTS);
    expect(tts.label).toBe('openai/gpt-4o-mini-tts:alloy');
    expect(() => resolveTTS('acme/x')).toThrow(/unknown TTS provider/);
  });
});
