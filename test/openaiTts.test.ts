import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAITTS } from '../src/plugins/openai/tts.ts';
import { splitForSpeech } from '../src/tts/httpSpeech.ts';
import type { APIError } from '../src/providers/errors.ts';
import type { SynthesizedAudio } from '../src/providers/types.ts';
import { startAudioServer } from './providerServers/audioServer.ts';

let server: Awaited<ReturnType<typeof startAudioServer>>;
beforeEach(async () => (server = await startAudioServer()));
afterEach(() => server.close());
const fast = { maxRetry: 2, retryInterval: 20, timeout: 2000 };
const tts = (o: ConstructorParameters<typeof OpenAITTS>[0] = {}) => new OpenAITTS({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, connOptions: fast, ...o });
const ramp = (n: number) => Int16Array.from({ length: n }, (_, i) => ((i * 7) % 6000) - 3000);
const all = (out: SynthesizedAudio[]) => Int16Array.from(out.flatMap((a) => [...a.frame.data]));
const synth = (t: OpenAITTS, text: string) => lastValueFrom(t.synthesize(text).pipe(toArray()));
const failure = (t: OpenAITTS, text: string) => synth(t, text).then(() => { throw new Error('expected an error'); }, (e: APIError) => e);

describe('OpenAITTS against a local speech server', () => {
  it('requests PCM with model, voice, input and instructions, and streams 24 kHz mono 20 ms frames', async () => {
    const samples = ramp(24000 / 2);
    server.script.push({ kind: 'pcm', samples, chunkBytes: 4096 });
    const out = await synth(tts({ voice: 'nova', instructions: 'Speak warmly.', speed: 1.25 }), '  Hello there.  ');
    expect(server.requests[0]!.path).toBe('/v1/audio/speech');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-test');
    expect(server.requests[0]!.json).toEqual({ model: 'gpt-4o-mini-tts', voice: 'nova', input: 'Hello there.', response_format: 'pcm', instructions: 'Speak warmly.', speed: 1.25 });
    expect(() => tts({ speed: 5 })).toThrow(/speed must be from 0.25 to 4/);
    expect(out.every((a) => a.frame.sampleRate === 24000 && a.frame.channels === 1)).toBe(true);
    expect(out.map((a) => a.frame.samplesPerChannel)).toEqual(Array(25).fill(480)); // 500 ms in 20 ms frames
    expect(all(out)).toEqual(samples);
    expect(out.filter((a) => a.final).length).toBe(1);
    expect(out.at(-1)!.final).toBe(true);
    expect(new Set(out.map((a) => a.requestId)).size).toBe(1);
  });

  it('odd-sized chunks: the odd byte is carried into the next chunk, nothing lost or shifted', async () => {
    const samples = ramp(5000); // not a whole number of frames either: the last one is short
    server.script.push({ kind: 'pcm', samples, chunkBytes: 333, delayMs: 1 });
    const out = await synth(tts(), 'odd');
    expect(all(out)).toEqual(samples);
    expect(out.at(-1)!.frame.samplesPerChannel).toBe(5000 % 480);
  });

  it('the first frame comes before the body is complete; unsubscribing aborts the request at once', async () => {
    server.script.push({ kind: 'pcm', samples: new Int16Array(24000 * 3), chunkBytes: 960, delayMs: 10 }); // ~1.5 s of body
    let frames = 0;
    const sub = tts().synthesize('a long sentence').subscribe(() => frames++);
    while (frames === 0) await new Promise((r) => setTimeout(r, 2));
    expect(server.requests[0]!.closedEarly).toBe(false);
    expect(frames).toBeLessThan(20); // streamed, not collected: the body is 150 frames
    sub.unsubscribe();
    for (let i = 0; i < 50 && !server.requests[0]!.closedEarly; i++) await new Promise((r) => setTimeout(r, 2));
    expect(server.requests[0]!.closedEarly).toBe(true);
  });

  it('retries a 503 before any audio, reporting it as recoverable', async () => {
    server.script.push({ kind: 'status', status: 503 }, { kind: 'pcm', samples: ramp(960), chunkBytes: 960 });
    const errors: Array<[string, boolean]> = [];
    const out = await lastValueFrom(tts().synthesize('retry me', { onError: (e, r) => errors.push([e.name, r]) }).pipe(toArray()));
    expect(all(out)).toEqual(ramp(960));
    expect(errors).toEqual([['APIStatusError', true]]);
    expect(server.requests).toHaveLength(2);
  });

  it('a body cut off after audio was played is an error, not a silent retry that would repeat speech', async () => {
    server.script.push({ kind: 'pcm', samples: ramp(24000), chunkBytes: 960, delayMs: 2, dropAfterBytes: 9600 }, { kind: 'pcm', samples: ramp(480), chunkBytes: 960 });
    const got: SynthesizedAudio[] = [];
    const err = await new Promise<Error>((resolve) => tts().synthesize('cut').subscribe({ next: (a) => got.push(a), error: resolve }));
    expect(got.length).toBeGreaterThan(0);
    expect(err.name).toBe('APIConnectionError'); // the SDK's 'terminated', mapped
    expect(err.message).toMatch(/terminated/);
    expect(server.requests).toHaveLength(1);
  });

  it('JSON, HTML or MP3 instead of PCM is a clear error', async () => {
    server.script.push({ kind: 'status', status: 200, contentType: 'application/json', body: { error: 'no audio today' } });
    let err = await failure(tts(), 'x');
    expect(err.message).toMatch(/expected PCM audio .* got application\/json: \{"error":"no audio today"\}/);
    expect(err.retryable).toBe(false);
    server.script.push({ kind: 'pcm', samples: ramp(480), chunkBytes: 960, contentType: 'audio/mpeg' });
    err = await failure(tts(), 'x');
    expect(err.message).toMatch(/expected PCM audio .* got audio\/mpeg$/);
    expect(server.requests).toHaveLength(2); // neither was retried
  });

  it('a 400 for bad input is not retried and carries the server message', async () => {
    server.script.push({ kind: 'status', status: 400, body: { error: { message: "Invalid value for 'voice'", type: 'invalid_request_error' } } });
    const err = await failure(tts({ voice: 'nobody' }), 'x');
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/Invalid value for 'voice'/);
    expect(server.requests).toHaveLength(1);
  });

  it('empty text is no request; text over the 4096-character limit becomes consecutive requests, in order', async () => {
    expect(await synth(tts(), '   ')).toEqual([]);
    expect(server.requests).toHaveLength(0);
    const sentence = 'This sentence is part of a very long reply. ';
    const text = sentence.repeat(200); // 8800 characters
    server.script.push({ kind: 'pcm', samples: ramp(960), chunkBytes: 960 }, { kind: 'pcm', samples: ramp(480), chunkBytes: 960 }, { kind: 'pcm', samples: ramp(720), chunkBytes: 960 });
    const out = await synth(tts(), text);
    const inputs = server.requests.map((r) => r.json.input as string);
    expect(inputs.length).toBe(3);
    expect(inputs.every((s) => s.length <= 4096 && s.endsWith('reply.'))).toBe(true); // cut at sentence ends
    expect(inputs.join(' ')).toBe(text.trim());
    expect(all(out)).toEqual(Int16Array.from([...ramp(960), ...ramp(480), ...ramp(720)]));
    expect(out.filter((a) => a.final)).toHaveLength(1);
  });

  it('splits text without sentence ends at spaces, and unbroken text at the limit', () => {
    expect(splitForSpeech('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(splitForSpeech('x'.repeat(10), 4)).toEqual(['xxxx', 'xxxx', 'xx']);
    expect(splitForSpeech('short', 4096)).toEqual(['short']);
    expect(splitForSpeech('', 10)).toEqual([]);
  });

  it('has the advertised shape and needs a key', () => {
    const t = tts();
    expect([t.sampleRate, t.numChannels, t.label]).toEqual([24000, 1, 'openai/gpt-4o-mini-tts:alloy']);
    expect(t.capabilities).toEqual({ streaming: false, alignedTranscript: false });
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => new OpenAITTS()).toThrow(/OPENAI_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});

const live = !!process.env.OPENAI_API_KEY;
if (!live) console.info('skipping live OpenAI tests: OPENAI_API_KEY not set');
describe.skipIf(!live)('OpenAITTS live', () => {
  it('speaks 24 kHz PCM, frame by frame', async () => {
    const out = await synth(new OpenAITTS({ voice: 'alloy' }), 'Hello from the test suite.');
    expect(out[0]!.frame.sampleRate).toBe(24000);
    expect(out.reduce((n, a) => n + a.frame.durationMs, 0)).toBeGreaterThan(500);
  }, 30_000);
});
