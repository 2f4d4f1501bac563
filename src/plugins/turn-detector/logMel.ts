/**
 * Whisper's log-mel spectrogram, as Smart Turn's `input_features` export expects it: 16 kHz audio, 400-sample
 * periodic Hann windows every 160 samples (centred, reflect-padded), power spectrum, 80 Slaney-scale mel filters
 * with Slaney (area) normalisation from 0 to 8 kHz, log10 (floor 1e-10), clamped to (max − 8), then (x + 4) / 4.
 * The last STFT frame is dropped as Whisper does, so 8 s (128000 samples) give exactly 80 × 800 values.
 * Computed in float64 with an iterative mixed-radix FFT (400 = 4·4·5·5); the result is float32, mel-major.
 */

export const SAMPLE_RATE = 16000;
export const N_FFT = 400;
export const HOP = 160;
export const N_MELS = 80;
export const WINDOW_SECONDS = 8;
export const WINDOW_SAMPLES = SAMPLE_RATE * WINDOW_SECONDS; // 128000
export const N_FRAMES = WINDOW_SAMPLES / HOP; // 800
const N_BINS = N_FFT / 2 + 1; // 201

// ------------------------------------------------------------------ mel filterbank (Slaney scale and norm)

const F_SP = 200 / 3; // Hz per mel below 1 kHz
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOG_STEP = Math.log(6.4) / 27;

export const hzToMel = (hz: number): number => (hz < MIN_LOG_HZ ? hz / F_SP : MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP);
export const melToHz = (mel: number): number => (mel < MIN_LOG_MEL ? mel * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)));

/** Triangular filters, each scaled to unit area (2 / bandwidth): [N_MELS][N_BINS], row-major. */
export function melFilterbank(): Float64Array {
  const top = hzToMel(SAMPLE_RATE / 2);
  const edges = Array.from({ length: N_MELS + 2 }, (_, i) => melToHz((top * i) / (N_MELS + 1)));
  const fb = new Float64Array(N_MELS * N_BINS);
  for (let m = 0; m < N_MELS; m++) {
    const [lo, mid, hi] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const norm = 2 / (hi - lo);
    for (let k = 0; k < N_BINS; k++) {
      const f = (k * SAMPLE_RATE) / N_FFT;
      const w = Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid));
      if (w > 0) fb[m * N_BINS + k] = w * norm;
    }
  }
  return fb;
}

// ------------------------------------------------------------------ FFT of length 400

/** Decimation in time over 400 = 4·4·5·5: the outermost stage combines 4 transforms of 100, the innermost 5 of 1. */
const FACTORS = [4, 4, 5, 5];

interface Stage {
  p: number;
  /** Size of the transforms this stage produces, and of the ones it combines (m = n / p). */
  n: number;
  m: number;
  /** W_n^(r·k) for r < p, k < m, at [r·m + k]. */
  twRe: Float64Array;
  twIm: Float64Array;
}

/** Where each input sample sits before the first (innermost) stage: the digit-reversed order of the factors. */
const PERM = new Int32Array(N_FFT);
{
  const place = (off: number, stride: number, n: number, outOff: number, level: number): void => {
    if (n === 1) {
      PERM[outOff] = off;
      return;
    }
    const p = FACTORS[level]!;
    for (let r = 0; r < p; r++) place(off + r * stride, stride * p, n / p, outOff + (r * n) / p, level + 1);
  };
  place(0, 1, N_FFT, 0, 0);
}

/** Innermost stage first. */
const STAGES: Stage[] = [];
{
  let n = N_FFT;
  for (const p of FACTORS) {
    const m = n / p;
    const twRe = new Float64Array(p * m);
    const twIm = new Float64Array(p * m);
    for (let r = 0; r < p; r++)
      for (let k = 0; k < m; k++) {
        twRe[r * m + k] = Math.cos((2 * Math.PI * r * k) / n);
        twIm[r * m + k] = -Math.sin((2 * Math.PI * r * k) / n);
      }
    STAGES.unshift({ p, n, m, twRe, twIm });
    n = m;
  }
}

const C1 = Math.cos((2 * Math.PI) / 5);
const C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5);
const S2 = Math.sin((4 * Math.PI) / 5);

/** The discrete Fourier transform of 400 complex samples into `out` (exported for its own test). */
export function fft400(re: Float64Array, im: Float64Array, out = { re: new Float64Array(N_FFT), im: new Float64Array(N_FFT) }): { re: Float64Array; im: Float64Array } {
  if (re.length !== N_FFT || im.length !== N_FFT) throw new RangeError(`fft400 needs ${N_FFT} samples`);
  const xr = out.re;
  const xi = out.im;
  for (let j = 0; j < N_FFT; j++) {
    xr[j] = re[PERM[j]!]!;
    xi[j] = im[PERM[j]!]!;
  }
  for (const { p, n, m, twRe, twIm } of STAGES) {
    for (let o = 0; o < N_FFT; o += n) {
      for (let k = 0; k < m; k++) {
        const i0 = o + k;
        const i1 = i0 + m;
        const i2 = i1 + m;
        const i3 = i2 + m;
        // Twiddled inputs t_r = W_n^(r·k) · x[o + r·m + k] (t_0 needs none).
        const t0r = xr[i0]!, t0i = xi[i0]!;
        let w = m + k;
        const t1r = xr[i1]! * twRe[w]! - xi[i1]! * twIm[w]!, t1i = xr[i1]! * twIm[w]! + xi[i1]! * twRe[w]!;
        w += m;
        const t2r = xr[i2]! * twRe[w]! - xi[i2]! * twIm[w]!, t2i = xr[i2]! * twIm[w]! + xi[i2]! * twRe[w]!;
        w += m;
        const t3r = xr[i3]! * twRe[w]! - xi[i3]! * twIm[w]!, t3i = xr[i3]! * twIm[w]! + xi[i3]! * twRe[w]!;
        if (p === 4) {
          // W_4 = −i: no multiplications.
          const ar = t0r + t2r, ai = t0i + t2i, br = t0r - t2r, bi = t0i - t2i;
          const cr = t1r + t3r, ci = t1i + t3i, dr = t1r - t3r, di = t1i - t3i;
          xr[i0] = ar + cr, xi[i0] = ai + ci;
          xr[i1] = br + di, xi[i1] = bi - dr;
          xr[i2] = ar - cr, xi[i2] = ai - ci;
          xr[i3] = br - di, xi[i3] = bi + dr;
        } else {
          const i4 = i3 + m;
          w += m;
          const t4r = xr[i4]! * twRe[w]! - xi[i4]! * twIm[w]!, t4i = xr[i4]! * twIm[w]! + xi[i4]! * twRe[w]!;
          const b1r = t1r + t4r, b1i = t1i + t4i, b2r = t2r + t3r, b2i = t2i + t3i;
          const d1r = t1r - t4r, d1i = t1i - t4i, d2r = t2r - t3r, d2i = t2i - t3i;
          const a1r = t0r + C1 * b1r + C2 * b2r, a1i = t0i + C1 * b1i + C2 * b2i;
          const a2r = t0r + C2 * b1r + C1 * b2r, a2i = t0i + C2 * b1i + C1 * b2i;
          const er = S1 * d1r + S2 * d2r, ei = S1 * d1i + S2 * d2i;
          const fr = S2 * d1r - S1 * d2r, fi = S2 * d1i - S1 * d2i;
          xr[i0] = t0r + b1r + b2r, xi[i0] = t0i + b1i + b2i;
          xr[i1] = a1r + ei, xi[i1] = a1i - er;
          xr[i4] = a1r - ei, xi[i4] = a1i + er;
          xr[i2] = a2r + fi, xi[i2] = a2i - fr;
          xr[i3] = a2r - fi, xi[i3] = a2i + fr;
        }
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ the spectrogram

/** Periodic Hann window (as torch.hann_window and Whisper use). */
const HANN = Float64Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));

/**
 * The last 8 s of `audio` (16 kHz, −1..1), left-padded with zeros when shorter, as Smart Turn's inference does:
 * the newest audio is always at the end of the window.
 */
export function lastWindow(audio: Float32Array, length = WINDOW_SAMPLES): Float32Array {
  if (audio.length === length) return audio;
  const out = new Float32Array(length);
  if (audio.length > length) out.set(audio.subarray(audio.length - length));
  else out.set(audio, length - audio.length);
  return out;
}

/**
 * Zero mean, unit variance over the whole window (what the Whisper feature extractor's `do_normalize` does; the
 * Smart Turn reference pipeline enables it). Silence stays silence.
 */
export function normalizeWindow(x: Float32Array): Float32Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i]!;
  mean /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - mean) ** 2;
  const scale = 1 / Math.sqrt(v / x.length + 1e-7);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! - mean) * scale;
  return out;
}

/** The filterbank as sparse rows: each filter's first bin and its non-zero weights. */
function sparseFilters(): { first: Int32Array; weights: Float64Array[] } {
  const fb = melFilterbank();
  const first = new Int32Array(N_MELS);
  const weights: Float64Array[] = [];
  for (let m = 0; m < N_MELS; m++) {
    const row = fb.subarray(m * N_BINS, (m + 1) * N_BINS);
    let lo = row.findIndex((w) => w > 0);
    let hi = N_BINS - 1;
    while (hi > lo && !(row[hi]! > 0)) hi--;
    if (lo < 0) lo = hi = 0;
    first[m] = lo;
    weights.push(row.slice(lo, hi + 1));
  }
  return { first, weights };
}
let SPARSE: ReturnType<typeof sparseFilters> | null = null;

/**
 * Log-mel features of an 8 s window: Float32Array(80 × 800), mel-major, ready for `input_features [1,80,800]`.
 * Two real frames share one complex FFT (one as the real part, one as the imaginary part), split afterwards by
 * conjugate symmetry.
 */
export function whisperLogMel(window: Float32Array): Float32Array {
  if (window.length !== WINDOW_SAMPLES) throw new RangeError(`whisperLogMel needs ${WINDOW_SAMPLES} samples (8 s at 16 kHz), got ${window.length}`);
  const { first, weights } = (SPARSE ??= sparseFilters());
  const n = window.length;
  const pad = N_FFT / 2;
  // Reflect padding (centre = true): x[−j] = x[j], x[n−1+j] = x[n−1−j].
  const at = (i: number): number => window[i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i]!;
  const mel = new Float64Array(N_MELS * N_FRAMES);
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const Z = { re: new Float64Array(N_FFT), im: new Float64Array(N_FFT) };
  const powerA = new Float64Array(N_BINS);
  const powerB = new Float64Array(N_BINS);
  let max = -Infinity;
  const melOf = (power: Float64Array, f: number) => {
    for (let m = 0; m < N_MELS; m++) {
      const w = weights[m]!;
      const k0 = first[m]!;
      let s = 0;
      for (let j = 0; j < w.length; j++) s += w[j]! * power[k0 + j]!;
      const v = Math.log10(Math.max(s, 1e-10));
      mel[m * N_FRAMES + f] = v;
      if (v > max) max = v;
    }
  };
  for (let f = 0; f < N_FRAMES; f += 2) {
    const a = f * HOP - pad;
    const b = a + HOP;
    const interior = a >= 0 && b + N_FFT <= n;
    for (let i = 0; i < N_FFT; i++) {
      re[i] = (interior ? window[a + i]! : at(a + i)) * HANN[i]!;
      im[i] = (interior ? window[b + i]! : at(b + i)) * HANN[i]!;
    }
    fft400(re, im, Z);
    for (let k = 0; k < N_BINS; k++) {
      const j = (N_FFT - k) % N_FFT;
      // A = (Z[k] + conj Z[N−k]) / 2, B = (Z[k] − conj Z[N−k]) / 2i
      const ar = (Z.re[k]! + Z.re[j]!) / 2, ai = (Z.im[k]! - Z.im[j]!) / 2;
      const br = (Z.im[k]! + Z.im[j]!) / 2, bi = (Z.re[j]! - Z.re[k]!) / 2;
      powerA[k] = ar * ar + ai * ai;
      powerB[k] = br * br + bi * bi;
    }
    melOf(powerA, f);
    melOf(powerB, f + 1);
  }
  const out = new Float32Array(N_MELS * N_FRAMES);
  const floor = max - 8;
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(mel[i]!, floor) + 4) / 4;
  return out;
}
