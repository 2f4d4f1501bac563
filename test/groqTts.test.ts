import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { encodeWav, wavHeader } from '../src/audio/wav.ts';
import { GroqTTS } from '../src/plugins/groq/tts.ts';
import type { APIError } from '../src/providers/errors.ts';
import { resolveTTS } from '../src/providers/resolve.ts';
import type { SynthesizedAudio } from '../src/providers/types.ts';
import { startAudioServer } from './providerServers/audioServer.ts';

let server: Awaited<ReturnType<typeof startAudioServer>>;
beforeEach(async () => (server = await startAudioServer()));
afterEach(() => server.close());

const fast = { maxRetry: 2, retryInterval: 20, timeout: 2000 };
const tts = (o: ConstructorParameters<typeof GroqTTS>[0] = {}) => new GroqTTS({ apiKey: 'gsk-test', baseURL: server.url, connOptions: fast, ...o });
const ramp = (n: number, channels = 1) => Int16Array.from({ length: n * channels }, (_, i) => ((i * 7) % 6000) - 3000);
const wav = (samples: Int16Array, rate: number, channels = 1) => encodeWav([new AudioFrame(samples, rate, channels, samples.length / channels)]);
const all = (out: SynthesizedAudio[]) => Int16Array.from(out.flatMap((a) => [...a.frame.data]));
const synth = (t: GroqTTS, text: string) => lastValueFrom(t.synthesize(text).pipe(toArray()));

describe('GroqTTS against a local speech server', () => {
  it('asks groq-sdk for WAV at the declared rate and streams the samples as 20 ms mono frames', async () => {
    const samples = ramp(48000 / 4);
    server.script.push({ kind: 'pcm', samples: wav(samples, 48000), chunkBytes: 1000, contentType: 'audio/wav' });
    const out = await synth(tts({ voice: 'troy', speed: 1.2 }), ' Hello there. ');
    expect(server.requests[0]!.path).toBe('/openai/v1/audio/speech');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer gsk-test');
    expect(server.requests[0]!.json).toEqual({ model: 'canopylabs/orpheus-v1-english', voice: 'troy', input: 'Hello there.', response_format: 'wav', sample_rate: 48000, speed: 1.2 });
    expect(out.every((a) => a.frame.sampleRate === 48000 && a.frame.channels === 1)).toBe(true);
    expect(out.map((a) => a.frame.samplesPerChannel)).toEqual(Array(12).fill(960).concat([480]));
    expect(all(out)).toEqual(samples);
    expect(out.filter((a) => a.final).length).toBe(1);
    expect(out.at(-1)!.final).toBe(true);
  });

  it('a streamed WAV with a placeholder length is read to the end; the first frame arrives before the body is complete', async () => {
    const samples = ramp(48000);
    const body = new Uint8Array(44 + samples.byteLength);
    body.set(wavHeader(48000, 1, 0xffffffff));
    body.set(new Uint8Array(samples.buffer), 44);
    server.script.push({ kind: 'pcm', samples: body, chunkBytes: 1920, delayMs: 5, contentType: 'audio/wav' });
    const out = await lastValueFrom(tts().synthesize('long').pipe(toArray()));
    expect(all(out)).toEqual(samples);
    server.script.push({ kind: 'pcm', samples: body, chunkBytes: 1920, delayMs: 10, contentType: 'audio/wav' });
    let frames = 0;
    const sub = tts().synthesize('again').subscribe(() => frames++);
    while (frames === 0) await new Promise((r) => setTimeout(r, 2));
    expect(frames).toBeLessThan(10); // of 50
    sub.unsubscribe();
    for (let i = 0; i < 50 && !server.requests[1]!.closedEarly; i++) await new Promise((r) => setTimeout(r, 2));
    expect(server.requests[1]!.closedEarly).toBe(true);
  });

  it('audio at another rate or in stereo is converted to the declared mono rate', async () => {
    server.script.push({ kind: 'pcm', samples: wav(ramp(24000 / 2, 2), 24000, 2), chunkBytes: 4096, contentType: 'audio/wav' });
    const out = await synth(tts({ sampleRate: 16000 }), 'convert me');
    expect(server.requests[0]!.json.sample_rate).toBe(16000);
    expect(out.every((a) => a.frame.sampleRate === 16000 && a.frame.channels === 1)).toBe(true);
    const n = out.reduce((s, a) => s + a.frame.samplesPerChannel, 0);
    expect(Math.abs(n - 8000)).toBeLessThanOrEqual(2); // 500 ms at 16 kHz
  });

  it('JSON instead of audio, a body that is not WAV, and unsupported encodings are clear errors, not retried', async () => {
    server.script.push({ kind: 'status', status: 200, body: { error: { message: 'model decommissioned' } } });
    let err = (await synth(tts(), 'x').catch((e) => e)) as APIError;
    expect(err.message).toMatch(/expected WAV audio .* got application\/json: .*model decommissioned/);
    server.script.push({ kind: 'pcm', samples: new TextEncoder().encode('ID3\u0003 this is an mp3 really'), chunkBytes: 100, contentType: 'audio/wav' });
    err = (await synth(tts(), 'x').catch((e) => e)) as APIError;
    expect(err.message).toMatch(/not a WAV file/);
    const alaw = wav(ramp(100), 8000);
    new DataView(alaw.buffer).setUint16(20, 6, true); // format 6 = A-law
    server.script.push({ kind: 'pcm', samples: alaw, chunkBytes: 100, contentType: 'audio/wav' });
    err = (await synth(tts(), 'x').catch((e) => e)) as APIError;
    expect(err.message).toMatch(/unsupported WAV encoding: format 6/);
    expect(server.requests).toHaveLength(3);
  });

  it('retries a 503 before any audio, reporting it as recoverable', async () => {
    server.script.push({ kind: 'status', status: 503 }, { kind: 'pcm', samples: wav(ramp(960), 48000), chunkBytes: 4096, contentType: 'audio/wav' });
    const errors: boolean[] = [];
    const out = await lastValueFrom(tts().synthesize('retry', { onError: (_e, r) => errors.push(r) }).pipe(toArray()));
    expect(errors).toEqual([true]);
    expect(all(out)).toEqual(ramp(960));
  });

  it('model strings, options and key checks', () => {
    const saved = process.env.GROQ_API_KEY;
    try {
      process.env.GROQ_API_KEY = 'gsk-env';
      const t = resolveTTS('groq/canopylabs/orpheus-arabic-saudi:noura');
      expect(t.label).toBe('groq/canopylabs/orpheus-arabic-saudi:noura');
      expect(t.sampleRate).toBe(48000);
      expect(() => tts({ sampleRate: 12345 as never })).toThrow(/sampleRate must be one of/);
      delete process.env.GROQ_API_KEY;
      expect(() => new GroqTTS()).toThrow(/GROQ_API_KEY/);
    } finally {
      if (saved === undefined) delete process.env.GROQ_API_KEY;
      else process.env.GROQ_API_KEY = saved;
    }
  });
});
