import { readFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.ts';
import { fft400, lastWindow, melFilterbank, normalizeWindow, whisperLogMel, N_FRAMES, N_MELS, WINDOW_SAMPLES } from '../src/plugins/turn-detector/logMel.ts';

/** Golden features from test/fixtures/logmel-golden.py (numpy rfft + its own Slaney filterbank). */
const golden = JSON.parse(readFileSync(new URL('./fixtures/logmel-golden.json', import.meta.url), 'utf8')) as {
  frames: number[];
  cases: Record<string, { max: number; mean: number; values: number[][] }>;
};

/** The same signals as the script builds. */
const N = WINDOW_SAMPLES;
function xorshiftNoise(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}
const sweep = () => Float32Array.from({ length: N }, (_, i) => {
  const t = i / 16000;
  return 0.5 * Math.sin(2 * Math.PI * (100 * t + ((7000 - 100) * t * t) / (2 * (N / 16000))));
});
async function speech(): Promise<Float32Array> {
  const frames = await lastValueFrom(readWav(readFileSync(new URL('./fixtures/speech-16k.wav', import.meta.url))).pipe(toArray()));
  const pcm = new Float32Array(frames.reduce((n, f) => n + f.data.length, 0));
  let o = 0;
  for (const f of frames) for (const s of f.data) pcm[o++] = s / 32768;
  return lastWindow(pcm);
}

const signals: Record<string, () => Promise<Float32Array> | Float32Array> = {
  silence: () => new Float32Array(N),
  noise: () => xorshiftNoise(0x9e3779b9, N),
  sweep,
  speech,
};

describe('Whisper log-mel features', () => {
  it('the FFT of length 400 equals a naive O(n²) DFT', () => {
    const re = Float64Array.from(xorshiftNoise(7, 400));
    const im = Float64Array.from(xorshiftNoise(11, 400));
    const X = fft400(re, im);
    let worst = 0;
    for (let k = 0; k < 400; k++) {
      let sr = 0;
      let si = 0;
      for (let n = 0; n < 400; n++) {
        const a = (-2 * Math.PI * k * n) / 400;
        sr += re[n]! * Math.cos(a) - im[n]! * Math.sin(a);
        si += re[n]! * Math.sin(a) + im[n]! * Math.cos(a);
      }
      worst = Math.max(worst, Math.abs(sr - X.re[k]!), Math.abs(si - X.im[k]!));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('each Slaney filter has unit area in Hz and the bank spans 0–8 kHz', () => {
    const fb = melFilterbank();
    expect(fb.length).toBe(80 * 201);
    expect(fb[0 * 201 + 0]).toBe(0); // the first filter starts at 0 Hz with weight 0
    expect(fb[79 * 201 + 200]).toBe(0); // the last ends at 8 kHz with weight 0
    for (let m = 0; m < 80; m++) expect(fb.subarray(m * 201, (m + 1) * 201).some((w) => w > 0)).toBe(true);
  });

  for (const name of Object.keys(signals)) {
    it(`${name}: matches the numpy reference within 2e-4`, async () => {
      const feats = whisperLogMel(await signals[name]!());
      expect(feats).toHaveLength(N_MELS * N_FRAMES);
      const ref = golden.cases[name]!;
      let worst = 0;
      golden.frames.forEach((f, j) => {
        for (let m = 0; m < N_MELS; m++) worst = Math.max(worst, Math.abs(feats[m * N_FRAMES + f]! - ref.values[j]![m]!));
      });
      expect(worst).toBeLessThan(2e-4);
      expect(Math.max(...feats)).toBeCloseTo(ref.max, 4);
      expect(feats.reduce((a, b) => a + b, 0) / feats.length).toBeCloseTo(ref.mean, 4);
    });
  }

  it('the four cases differ from each other (the fixture is not one constant)', () => {
    const means = Object.values(golden.cases).map((c) => c.mean);
    expect(new Set(means).size).toBe(4);
  });

  it('short audio is left-padded (the newest sample last), long audio keeps its last 8 s', () => {
    const short = lastWindow(Float32Array.from([1, 2, 3]));
    expect(short).toHaveLength(N);
    expect([...short.subarray(N - 4)]).toEqual([0, 1, 2, 3]);
    const long = new Float32Array(N + 10).map((_, i) => i);
    const w = lastWindow(long);
    expect(w[0]).toBe(10);
    expect(w[N - 1]).toBe(N + 9);
  });

  it('normalisation gives zero mean and unit variance; silence stays silence', () => {
    const x = normalizeWindow(xorshiftNoise(3, N).map((v) => v * 0.1 + 0.2));
    const mean = x.reduce((a, b) => a + b, 0) / N;
    const varc = x.reduce((a, b) => a + (b - mean) ** 2, 0) / N;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(varc).toBeCloseTo(1, 3); // the 1e-7 variance floor keeps it a hair below 1
    expect(normalizeWindow(new Float32Array(N)).every((v) => v === 0)).toBe(true);
  });

  it('a window that is not 8 s is a clear error', () => {
    expect(() => whisperLogMel(new Float32Array(1000))).toThrow(/128000 samples/);
  });
});
