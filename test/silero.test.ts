import { from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { defaultModelPath, SileroThreadModel, SileroVAD } from '../src/plugins/silero/index.ts';
import { resample } from '../src/audio/resample.ts';
import { frames, join, probabilities, run, samples, segments, silence, whiteNoise } from './helpers/vadAudio.ts';

let vad: SileroVAD;
let a: Int16Array;
let b: Int16Array;
beforeAll(async () => {
  vad = await SileroVAD.load();
  a = await samples('utterance-a-16k.wav');
  b = await samples('utterance-b-16k.wav');
});

describe('Silero VAD on real speech', () => {
  it('finds both utterances within 100 ms of their true boundaries', async () => {
    const pcm = join(silence(1000), a, silence(1500), b, silence(1200));
    const aEnd = 1000 + (a.length / 16) ;
    const bStart = aEnd + 1500;
    const bEnd = bStart + b.length / 16;
    const evs = await run(vad, frames(pcm));
    const segs = segments(evs);
    expect(segs).toHaveLength(2);
    const truth: Array<[number, number]> = [[1000, aEnd], [bStart, bEnd]];
    console.info(`Silero boundaries: detected ${JSON.stringify(segs.map(([s, e]) => [Math.round(s), Math.round(e)]))} vs true ${JSON.stringify(truth.map(([s, e]) => [Math.round(s), Math.round(e)]))}`);
    segs.forEach(([s, e], i) => {
      expect(Math.abs(s - truth[i]![0]), `start ${i}: ${s} vs ${truth[i]![0]}`).toBeLessThanOrEqual(100);
      expect(Math.abs(e - truth[i]![1]), `end ${i}: ${e} vs ${truth[i]![1]}`).toBeLessThanOrEqual(100);
    });
    // end_of_speech carries the utterance audio (with prefix padding) for segmenting STT adapters.
    const eos = evs.find((e) => e.type === 'end_of_speech')!;
    const ms = eos.frames!.reduce((n, f) => n + f.durationMs, 0);
    expect(ms).toBeGreaterThan(a.length / 16);
    expect(ms).toBeLessThan(a.length / 16 + 500 + 700);
    expect(evs.filter((e) => e.type === 'inference_done').length).toBe(Math.floor(pcm.length / 512));
  });

  it('gives no speech for silence or white noise', async () => {
    expect(segments(await run(vad, frames(silence(3000))))).toEqual([]);
    expect(segments(await run(vad, frames(whiteNoise(3000, 3000))))).toEqual([]);
  });

  it('works on 48 kHz stereo input (mixed down and resampled inside)', async () => {
    const pcm16 = join(silence(800), a, silence(1000));
    const up = await lastValueFrom(from(frames(pcm16)).pipe(resample(48000), toArray()));
    const stereo = up.map((f) => new AudioFrame(Int16Array.from({ length: f.data.length * 2 }, (_, i) => f.data[i >> 1]!), 48000, 2, f.samplesPerChannel));
    const segs = segments(await run(vad, stereo));
    expect(segs).toHaveLength(1);
    expect(Math.abs(segs[0]![0] - 800)).toBeLessThanOrEqual(100);
  });

  it('keeps streams independent while sharing one model (batched)', async () => {
    const pcm = join(silence(500), a, silence(1000));
    const [x, y] = await Promise.all([run(vad, frames(pcm)), run(vad, frames(silence(pcm.length / 16)))]);
    expect(segments(x)).toHaveLength(1);
    expect(segments(y)).toEqual([]);
    expect(vad.model.stats.runs).toBeLessThan(vad.model.stats.windows);
    await expect(SileroVAD.load({ activationThreshold: 1.5 })).rejects.toThrow(/activationThreshold/);
    await expect(SileroVAD.load({ modelPath: '/nonexistent/model.onnx' })).rejects.toThrow();
  });
});

describe('Silero VAD on its own inference thread (thread: worker)', () => {
  it('gives the same probabilities as the main-thread model, batched across streams', async () => {
    const threaded = await SileroVAD.load({ thread: 'worker' });
    const pcm = join(silence(500), a, silence(1000));
    const probs = (v: SileroVAD) => probabilities(v, frames(pcm));
    const [main, other, thread] = await Promise.all([probs(vad), probs(threaded), probs(threaded)]);
    expect(other.length).toBe(main.length);
    for (let i = 0; i < main.length; i++) expect(Math.abs(other[i]! - main[i]!)).toBeLessThan(1e-4);
    expect(thread).toEqual(other);
    const m = threaded.model as SileroThreadModel;
    // Two streams at once: their windows shared model calls.
    expect(m.stats.runs).toBeLessThan(m.stats.windows);
    expect(segments(await run(threaded, frames(pcm)))).toHaveLength(1);
  });

  it('sends all the windows of a frame in one request, and batchDelayMs gathers many streams: same probabilities', async () => {
    const delayed = await SileroVAD.load({ thread: 'worker', batchDelayMs: 10 });
    const m = delayed.model as SileroThreadModel;
    const pcm = join(silence(500), a, silence(1000));
    const probs = (v: SileroVAD, per: number) => probabilities(v, frames(pcm, 16000, per));
    const main = await probs(vad, 320);
    const runs0 = m.stats.runs;
    const windows0 = m.stats.windows;
    // 100 ms frames: three windows (and the remainder carried on) per request, the state chained inside the thread;
    // four streams at once, odd frame lengths included, so requests of different lengths share model calls.
    const threaded = await Promise.all([probs(delayed, 1600), probs(delayed, 1600), probs(delayed, 1000), probs(delayed, 2048)]);
    for (const t of threaded) {
      expect(t.length).toBe(main.length);
      for (let i = 0; i < main.length; i++) expect(Math.abs(t[i]! - main[i]!), `window ${i}`).toBeLessThan(1e-4);
    }
    const windows = m.stats.windows - windows0;
    expect(windows).toBe(4 * main.length);
    // Each model call served several streams' windows.
    expect((m.stats.runs - runs0) * 2).toBeLessThan(windows);
    await expect(SileroVAD.load({ thread: 'worker', batchDelayMs: -1 })).rejects.toThrow(/batchDelayMs/);
  });

  it('names a file that is no model, and survives its thread dying', async () => {
    await expect(SileroVAD.load({ thread: 'worker', modelPath: '/nonexistent/model.onnx' })).rejects.toThrow(/cannot load \/nonexistent\/model.onnx/);
    await expect(SileroVAD.load({ thread: 'gpu' as 'worker' })).rejects.toThrow(/thread must be/);
    const m = await SileroThreadModel.load(defaultModelPath());
    const window = () => [new Float32Array(576), new Float32Array(256)] as const;
    const inFlight = expect(m.infer(...window())).rejects.toThrow(/closed/);
    await m.close();
    await inFlight;
    // The next window starts a new thread.
    const r = await m.infer(...window());
    expect(r.probability).toBeGreaterThanOrEqual(0);
    expect(r.probability).toBeLessThan(0.5);
    // The thread dies (exits with a code, between model calls) with a window on its way: that window fails with the
    // reason, the next one is answered by a new thread.
    const lost = expect(m.infer(...window())).rejects.toThrow(/inference thread exited \(code 3\)/);
    const exited = m._exitThread(3); // reaches the thread before the window (sent at the end of this turn)
    await lost;
    await exited;
    expect((await m.infer(...window())).probability).toBeLessThan(0.5);
    await m.close();
  });
});
