import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { readWav, type WavInfo } from '../src/audio/wav.ts';
import { OpenAISTT } from '../src/plugins/openai/stt.ts';
import type { APIError } from '../src/providers/errors.ts';
import { startAudioServer } from './providerServers/audioServer.ts';

let server: Awaited<ReturnType<typeof startAudioServer>>;
beforeEach(async () => (server = await startAudioServer()));
afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});
const fast = { maxRetry: 2, retryInterval: 20, timeout: 2000 };
const stt = (o: ConstructorParameters<typeof OpenAISTT>[0] = {}) => new OpenAISTT({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, connOptions: fast, ...o });
const tone = (ms: number, rate = 16000, channels = 1) => {
  const n = (rate * ms) / 1000;
  return new AudioFrame(Int16Array.from({ length: n * channels }, (_, i) => ((i % 64) - 32) * 300), rate, channels, n);
};
const decode = async (bytes: Uint8Array) => {
  let info: WavInfo | undefined;
  const frames = await lastValueFrom(readWav(bytes, { onInfo: (i) => (info = i) }).pipe(toArray()));
  return { info: info!, samples: Int16Array.from(frames.flatMap((f) => [...f.data])) };
};
const rejection = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: APIError) => e);

describe('OpenAISTT against a local transcription server', () => {
  it('uploads the utterance as one WAV file (multipart) with model, language and key, and maps the transcript', async () => {
    server.script.push({ kind: 'transcript', text: '  Hello world.  ' });
    const frames = [tone(200), tone(300)];
    const ev = await stt({ language: 'en' }).recognize(frames);
    expect(ev).toEqual({ type: 'final_transcript', alternatives: [{ text: 'Hello world.', language: 'en' }] });
    const req = server.requests[0]!;
    expect(req.path).toBe('/v1/audio/transcriptions');
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.fields).toEqual({ model: 'gpt-4o-transcribe', language: 'en' });
    expect(req.file).toMatchObject({ name: 'speech.wav', type: 'audio/wav' });
    const { info, samples } = await decode(req.file!.bytes);
    expect(info).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
    expect(samples).toEqual(Int16Array.from([...frames[0]!.data, ...frames[1]!.data])); // every sample, in order
  });

  it('the per-call language wins; whisper-1 is sent as the model', async () => {
    server.script.push({ kind: 'transcript', text: 'Bonjour' });
    await stt({ model: 'whisper-1', language: 'en', prompt: 'Voicechart, LiveKit' }).recognize([tone(100)], { language: 'fr' });
    expect(server.requests[0]!.fields).toEqual({ model: 'whisper-1', language: 'fr', prompt: 'Voicechart, LiveKit' });
  });

  it('stereo and mixed-rate frames become one mono WAV at the first frame\'s rate', async () => {
    server.script.push({ kind: 'transcript', text: 'ok' });
    await stt().recognize([tone(100, 48000, 2), tone(100, 16000), tone(100, 48000)]);
    const { info, samples } = await decode(server.requests[0]!.file!.bytes);
    expect(info).toMatchObject({ sampleRate: 48000, channels: 1 });
    // 300 ms at 48 kHz, give or take the resampler's filter delay on the 16 kHz part.
    expect(Math.abs(samples.length - 14400)).toBeLessThan(200);
  });

  it('silence to transcribe is an empty final, and no audio at all is no request', async () => {
    server.script.push({ kind: 'transcript', text: '' });
    expect((await stt().recognize([tone(100)])).alternatives![0]!.text).toBe('');
    expect((await stt().recognize([])).alternatives![0]!.text).toBe('');
    expect((await stt().recognize([new AudioFrame(new Int16Array(0), 16000, 1, 0)])).alternatives![0]!.text).toBe('');
    expect(server.requests).toHaveLength(1);
  });

  it('retries 5xx and reports each retry as recoverable', async () => {
    server.script.push({ kind: 'status', status: 503 }, { kind: 'status', status: 502 }, { kind: 'transcript', text: 'third time lucky' });
    const errors: Array<[string, boolean]> = [];
    const ev = await stt().recognize([tone(100)], { onError: (e, r) => errors.push([e.name, r]) });
    expect(ev.alternatives![0]!.text).toBe('third time lucky');
    expect(errors).toEqual([['APIStatusError', true], ['APIStatusError', true]]);
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2]!.file!.bytes).toEqual(server.requests[0]!.file!.bytes); // the same upload each time
  });

  it('gives up after maxRetry with the last error', async () => {
    server.script.push({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500, body: { error: { message: 'still broken' } } });
    const err = await rejection(stt().recognize([tone(100)]));
    expect(err.statusCode).toBe(500);
    expect(err.message).toMatch(/still broken/);
    expect(server.requests).toHaveLength(3);
  });

  it('a 429 waits for the Retry-After the server asked for', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    server.script.push({ kind: 'status', status: 429, headers: { 'retry-after': '3' }, body: { error: { message: 'Rate limit reached' } } }, { kind: 'transcript', text: 'after the wait' });
    const retried: string[] = [];
    const result = stt({ connOptions: { maxRetry: 1, retryInterval: 20, timeout: 60_000 } }).recognize([tone(100)], { onError: (e) => retried.push(e.message) });
    while (!retried.length) await new Promise((r) => setImmediate(r)); // real I/O until the 429 is in
    expect(retried[0]).toMatch(/Rate limit reached/);
    await vi.advanceTimersByTimeAsync(2900);
    expect(server.requests).toHaveLength(1); // retryInterval is 20 ms, but the server said 3 s
    await vi.advanceTimersByTimeAsync(200);
    vi.useRealTimers();
    expect((await result).alternatives![0]!.text).toBe('after the wait');
    expect(server.requests).toHaveLength(2);
  });

  it('a 4xx is not retried and says what the server said', async () => {
    server.script.push({ kind: 'status', status: 400, body: { error: { message: 'Invalid file format.', type: 'invalid_request_error' } } });
    const err = await rejection(stt().recognize([tone(100)]));
    expect(err.name).toBe('APIStatusError');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/Invalid file format/);
    expect(server.requests).toHaveLength(1);
  });

  it('broken JSON and answers without text are clear errors, not empty transcripts', async () => {
    server.script.push({ kind: 'status', status: 200, rawBody: '{"text": "hel' });
    let err = await rejection(stt({ connOptions: { ...fast, maxRetry: 0 } }).recognize([tone(100)]));
    expect(err.message).toMatch(/malformed JSON in the transcription response/);
    server.script.push({ kind: 'status', status: 200, body: { transcription: 'wrong field' } });
    err = await rejection(stt().recognize([tone(100)]));
    expect(err.message).toMatch(/response has no text: \{"transcription":"wrong field"\}/);
    expect(err.retryable).toBe(false);
  });

  it('aborting the call aborts the upload at once', async () => {
    server.script.push({ kind: 'hang' });
    const ac = new AbortController();
    const result = rejection(stt().recognize([tone(100)], { signal: ac.signal }));
    while (!server.requests.length) await new Promise((r) => setTimeout(r, 2));
    ac.abort();
    await result;
    await new Promise((r) => setTimeout(r, 20));
    expect(server.requests[0]!.closedEarly).toBe(true);
    expect(server.requests).toHaveLength(1); // an abort is not retried
  });

  it('a server that never answers times out (APITimeoutError), retried, then fails', async () => {
    server.script.push({ kind: 'hang' }, { kind: 'hang' });
    const errors: string[] = [];
    const err = await rejection(stt({ connOptions: { maxRetry: 1, retryInterval: 10, timeout: 80 } }).recognize([tone(100)], { onError: (e) => errors.push(e.name) }));
    expect(err.name).toBe('APITimeoutError');
    expect(errors).toEqual(['APITimeoutError']);
    await new Promise((r) => setTimeout(r, 20));
    expect(server.requests.map((r) => r.closedEarly)).toEqual([true, true]);
  });

  it('an utterance over the 25 MB upload limit is refused before uploading', async () => {
    const long = new AudioFrame(new Int16Array(16000 * 60 * 14), 16000, 1, 16000 * 60 * 14); // 14 minutes
    const err = await rejection(stt().recognize([long]));
    expect(err.message).toMatch(/over the transcription API's 25 MB limit/);
    expect(server.requests).toHaveLength(0);
  });

  it('is not a streaming STT: stream() says to wrap it with a VAD adapter', () => {
    const s = stt();
    expect(s.capabilities).toEqual({ streaming: false, interimResults: false });
    expect(s.label).toBe('openai/gpt-4o-transcribe');
    expect(() => s.stream()).toThrow(/VAD-segmenting adapter \(new STTStreamAdapter\(stt, vad\)/);
  });

  it('without a key (and no local baseURL) construction fails naming OPENAI_API_KEY', () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => new OpenAISTT()).toThrow(/OPENAI_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});

const live = !!process.env.OPENAI_API_KEY;
if (!live) console.info('skipping live OpenAI tests: OPENAI_API_KEY not set');
describe.skipIf(!live)('OpenAISTT live', () => {
  it('transcribes the shipped speech sample', async () => {
    const frames = await lastValueFrom(readWav('test/fixtures/speech-16k.wav').pipe(toArray()));
    const ev = await new OpenAISTT({ model: 'gpt-4o-mini-transcribe' }).recognize(frames.slice(0, 250));
    expect(ev.alternatives![0]!.text.length).toBeGreaterThan(3);
  }, 30_000);
});
