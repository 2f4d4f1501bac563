/**
 * Whisper's log-mel spectrogram, as Smart Turn's `input_features` export expects it: 16 kHz audio, 400-sample
 * periodic Hann windows every 160 samples (centred, reflect-padded), power spectrum, 80 Slaney-scale mel filters
 * with Slaney (area) normalisation from 0 to 8 kHz, log10 (floor 1e-10), clamped to (max − 8), then (x + 4) / 4.
 * The last STFT frame is dropped as Whisper does, so 8 s (128000 samples) give exactly 80 × 800 values.
 * Computed in float64 with a mixed-radix FFT (400 = 4·4·5·5); the result is float32, mel-major ([80][frames]).
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

const FACTORS = [4, 4, 5, 5];

/** exp(−2πi·j/N) for j < N. */
const TW_RE = new Float64Array(N_FFT);
const TW_IM = new Float64Array(N_FFT);
for (let j = 0; j < N_FFT; j++) {
  TW_RE[j] = Math.cos((2 * Math.PI * j) / N_FFT);
  TW_IM[j] = -Math.sin((2 * Math.PI * j) / N_FFT);
}
/** W_5^j, the radix-5 butterfly's constants. */
const W5_RE = Float64Array.from({ length: 5 }, (_, j) => Math.cos((2 * Math.PI * j) / 5));
const W5_IM = Float64Array.from({ length: 5 }, (_, j) => -Math.sin((2 * Math.PI * j) / 5));
const T_RE = new Float64Array(5);
const T_IM = new Float64Array(5);

/**
 * Recursive decimation-in-time: the `p` interleaved sub-sequences are transformed, then combined by a radix-p
 * butterfly after the twiddles W_n^(r·k) = W_N^(r·k·N/n) (r·k·N/n < N, so the table is indexed directly).
 */
function fftRec(re: Float64Array, im: Float64Array, off: number, stride: number, n: number, outRe: Float64Array, outIm: Float64Array, outOff: number, level: number): void {
  const p = FACTORS[level]!;
  const m = n / p;
  if (m > 1) for (let r = 0; r < p; r++) fftRec(re, im, off + r * stride, stride * p, m, outRe, outIm, outOff + r * m, level + 1);
  else
    for (let r = 0; r < p; r++) {
      outRe[outOff + r] = re[off + r * stride]!;
      outIm[outOff + r] = im[off + r * stride]!;
    }
  const step = N_FFT / n;
  for (let k = 0; k < m; k++) {
    for (let r = 0; r < p; r++) {
      const yr = outRe[outOff + r * m + k]!;
      const yi = outIm[outOff + r * m + k]!;
      const t = r * k * step;
      T_RE[r] = yr * TW_RE[t]! - yi * TW_IM[t]!;
      T_IM[r] = yr * TW_IM[t]! + yi * TW_RE[t]!;
    }
    if (p === 4) {
      // W_4 = −i: the butterfly needs no multiplications.
      const ar = T_RE[0]! + T_RE[2]!, ai = T_IM[0]! + T_IM[2]!;
      const br = T_RE[0]! - T_RE[2]!, bi = T_IM[0]! - T_IM[2]!;
      const cr = T_RE[1]! + T_RE[3]!, ci = T_IM[1]! + T_IM[3]!;
      const dr = T_RE[1]! - T_RE[3]!, di = T_IM[1]! - T_IM[3]!;
      outRe[outOff + k] = ar + cr;
      outIm[outOff + k] = ai + ci;
      outRe[outOff + k + m] = br + di;
      outIm[outOff + k + m] = bi - dr;
      outRe[outOff + k + 2 * m] = ar - cr;
      outIm[outOff + k + 2 * m] = ai - ci;
      outRe[outOff + k + 3 * m] = br - di;
      outIm[outOff + k + 3 * m] = bi + dr;
    } else {
      for (let q = 0; q < 5; q++) {
        let sr = 0;
        let si = 0;
        for (let r = 0; r < 5; r++) {
          const w = (r * q) % 5;
          sr += T_RE[r]! * W5_RE[w]! - T_IM[r]! * W5_IM[w]!;
          si += T_RE[r]! * W5_IM[w]! + T_IM[r]! * W5_RE[w]!;
        }
        outRe[outOff + k + q * m] = sr;
        outIm[outOff + k + q * m] = si;
      }
    }
  }
}

/** The discrete Fourier transform of 400 complex samples into `out` (exported for its own test). */
export function fft400(re: Float64Array, im: Float64Array, out = { re: new Float64Array(N_FFT), im: new Float64Array(N_FFT) }): { re: Float64Array; im: Float64Array } {
  if (re.length !== N_FFT || im.length !== N_FFT) throw new RangeError(`fft400 needs ${N_FFT} samples`);
  fftRec(re, im, 0, 1, N_FFT, out.re, out.im, 0, 0);
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
