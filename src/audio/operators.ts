/** Small RxJS operators on frame streams. */
import { map, Observable, type OperatorFunction } from 'rxjs';
import { AudioFormatError, AudioFrame } from './frame.ts';

/** Re-cuts a stream into frames of exactly `ms` (the remainder is flushed at completion). */
export function rechunk(ms: number): OperatorFunction<AudioFrame, AudioFrame> {
  if (!(ms > 0)) throw new RangeError(`rechunk: frame length must be > 0 ms, got ${ms}`);
  return (source) =>
    new Observable<AudioFrame>((sub) => {
      let pending: Int16Array = new Int16Array(0);
      let fmt: { rate: number; channels: number } | null = null;
      const out = (data: Int16Array) => fmt && data.length && sub.next(new AudioFrame(data, fmt.rate, fmt.channels, data.length / fmt.channels));
      return source.subscribe({
        next: (f) => {
          if (fmt && (f.sampleRate !== fmt.rate || f.channels !== fmt.channels)) {
            out(pending); // a format change ends the previous run
            pending = new Int16Array(0);
          }
          fmt = { rate: f.sampleRate, channels: f.channels };
          const size = Math.max(1, Math.round((fmt.rate * ms) / 1000)) * fmt.channels;
          const joined = new Int16Array(pending.length + f.data.length);
          joined.set(pending);
          joined.set(f.data, pending.length);
          let off = 0;
          for (; off + size <= joined.length; off += size) out(joined.slice(off, off + size));
          pending = joined.slice(off);
        },
        error: (e) => sub.error(e),
        complete: () => {
          out(pending);
          sub.complete();
        },
      });
    });
}

/** Averages the channels into one. */
export const toMono = (): OperatorFunction<AudioFrame, AudioFrame> =>
  map((f) => {
    if (f.channels === 1) return f;
    const out = new Int16Array(f.samplesPerChannel);
    for (let i = 0; i < out.length; i++) {
      let s = 0;
      for (let c = 0; c < f.channels; c++) s += f.data[i * f.channels + c]!;
      out[i] = Math.round(s / f.channels);
    }
    return new AudioFrame(out, f.sampleRate, 1, f.samplesPerChannel, f.userdata);
  });

/** Scales by `db` decibels, clipping at the 16-bit range. */
export function gain(db: number): OperatorFunction<AudioFrame, AudioFrame> {
  if (!Number.isFinite(db)) throw new RangeError(`gain: ${db} dB is not a number`);
  const k = 10 ** (db / 20);
  return map((f) => {
    const out = new Int16Array(f.data.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(f.data[i]! * k)));
    return new AudioFrame(out, f.sampleRate, f.channels, f.samplesPerChannel, f.userdata);
  });
}

/** RMS level of each frame in dBFS (−Infinity for digital silence). */
export const levelMeter = (): OperatorFunction<AudioFrame, { frame: AudioFrame; dbfs: number }> =>
  map((frame) => {
    let s = 0;
    for (const v of frame.data) s += v * v;
    const rms = Math.sqrt(s / Math.max(1, frame.data.length)) / 32768;
    return { frame, dbfs: 20 * Math.log10(rms) };
  });

/** Float samples (−1..1) to 16-bit; NaN or ±Infinity is an error, out-of-range values clip. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (!Number.isFinite(v)) throw new AudioFormatError(`float sample ${i} is ${v}: audio must be finite`);
    out[i] = Math.round(Math.max(-1, Math.min(1, v)) * 32767);
  }
  return out;
}

/** Releases frames at the pace they would play (for feeding a file as if it were a microphone). */
export function paceRealTime(): OperatorFunction<AudioFrame, AudioFrame> {
  return (source) =>
    new Observable<AudioFrame>((sub) => {
      const queue: AudioFrame[] = [];
      let due = 0;
      let done = false;
      let timer: ReturnType<typeof setTimeout> | null = null;
      const pump = () => {
        timer = null;
        const now = performance.now();
        while (queue.length && due <= now) {
          const f = queue.shift()!;
          sub.next(f);
          due += f.durationMs;
        }
        if (queue.length) timer = setTimeout(pump, Math.max(0, due - now));
        else if (done) sub.complete();
      };
      const inner = source.subscribe({
        next: (f) => {
          if (!due) due = performance.now();
          queue.push(f);
          if (!timer) pump();
        },
        error: (e) => sub.error(e),
        complete: () => {
          done = true;
          if (!timer) pump();
        },
      });
      return () => {
        inner.unsubscribe();
        if (timer) clearTimeout(timer);
      };
    });
}
