import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { readWav } from '../src/audio/wav.ts';
import { rnnoise } from '../src/noise/rnnoise.ts';

const FIXTURE = new URL('./fixtures/speech-16k.wav', import.meta.url).pathname;

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
/** Gaussian white noise at a given RMS. */
function noise(n: number, rms: number, rand = seeded(7)) {
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()) * rms);
}
const concat = (fs: AudioFrame[]) => Int16Array.from(fs.flatMap((f) => [...f.data]));
const snr = (clean: Int16Array, test: ArrayLike<number>) => {
  let s = 0;
  let e = 0;
  for (let i = 0; i < clean.length; i++) (s += clean[i]! ** 2), (e += (test[i]! - clean[i]!) ** 2);
  return 10 * Math.log10(s / e);
};

describe('RNNoise noise suppression', () => {
  it('raises the SNR of speech in white noise, keeping length, rate and timing', async () => {
    const clean = concat(await lastValueFrom(readWav(FIXTURE).pipe(toArray())));
    let p = 0;
    for (const v of clean) p += v * v;
    const rms = Math.sqrt(p / clean.length);
    const n = noise(clean.length, rms / 2); // input SNR ≈ 6 dB
    const noisy = Int16Array.from(clean, (v, i) => Math.max(-32768, Math.min(32767, Math.round(v + n[i]!))));
    const frames = [];
    for (let i = 0; i < noisy.length; i += 320) frames.push(new AudioFrame(noisy.slice(i, i + 320), 16000, 1, Math.min(320, noisy.length - i)));
    const out = await lastValueFrom(rnnoise().process(from(frames)).pipe(toArray()));
    const cleaned = concat(out);
    expect(out.every((f) => f.sampleRate === 16000 && f.channels === 1)).toBe(true);
    expect(Math.abs(cleaned.length - clean.length)).toBeLessThanOrEqual(4);
    const before = snr(clean, noisy);
    const after = snr(clean, cleaned);
    console.info(`RNNoise SNR: ${before.toFixed(1)} dB → ${after.toFixed(1)} dB (gain ${(after - before).toFixed(1)} dB)`);
    expect(before).toBeGreaterThan(5);
    expect(before).toBeLessThan(7);
    expect(after - before).toBeGreaterThan(3);
  });

  it('stereo 48 kHz input comes out mono 48 kHz; an empty stream completes', async () => {
    const st = new AudioFrame(new Int16Array(960 * 2), 48000, 2, 960);
    const out = await lastValueFrom(rnnoise().process(from([st, st])).pipe(toArray()));
    expect(out.reduce((a, f) => a + f.samplesPerChannel, 0)).toBe(1920);
    expect(out[0]!.channels).toBe(1);
    expect(await lastValueFrom(rnnoise().process(from([])).pipe(toArray()))).toEqual([]);
  });
});
