import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AudioFormatError, AudioFrame } from '../src/audio/frame.ts';
import { resample } from '../src/audio/resample.ts';

/** A sine tone in 10 ms frames. */
function tone(rate: number, seconds: number, hz = 440, channels = 1): AudioFrame[] {
  const per = Math.floor(rate / 100);
  const frames: AudioFrame[] = [];
  for (let start = 0; start + per <= rate * seconds; start += per) {
    const data = new Int16Array(per * channels);
    for (let i = 0; i < per; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (start + i)) / rate));
    frames.push(new AudioFrame(data, rate, channels, per));
  }
  return frames;
}
const total = (fs: AudioFrame[]) => fs.reduce((a, f) => a + f.samplesPerChannel, 0);
const run = (fs: AudioFrame[], to: number) => lastValueFrom(from(fs).pipe(resample(to), toArray()));

/** Dominant frequency by zero crossings. */
function pitch(fs: AudioFrame[], channel = 0): number {
  let crossings = 0;
  let prev = 0;
  let n = 0;
  for (const f of fs) for (let i = 0; i < f.samplesPerChannel; i++) {
    const v = f.data[i * f.channels + channel]!;
    if (prev < 0 && v >= 0) crossings++;
    prev = v;
    n++;
  }
  return (crossings * fs[0]!.sampleRate) / n;
}

describe('resample (Speex)', () => {
  it.each([
    [48000, 16000],
    [16000, 24000],
    [22050, 16000],
    [24000, 48000],
  ])('%i → %i Hz keeps the length (no lost samples) and the pitch', async (a, b) => {
    const input = tone(a, 1);
    const out = await run(input, b);
    expect(out.every((f) => f.sampleRate === b)).toBe(true);
    expect(Math.abs(total(out) - (total(input) * b) / a)).toBeLessThanOrEqual(2);
    expect(pitch(out)).toBeGreaterThan(430);
    expect(pitch(out)).toBeLessThan(450);
  });

  it('keeps stereo channels apart and passes frames already at the rate through', async () => {
    const st = tone(48000, 0.5, 440, 2);
    const out = await run(st, 16000);
    expect(out[0]!.channels).toBe(2);
    expect(Math.abs(total(out) - 8000)).toBeLessThanOrEqual(2);
    const same = tone(16000, 0.1);
    expect(await run(same, 16000)).toEqual(same);
  });

  it('restarts the filter when the input rate changes mid-stream', async () => {
    const out = await run([...tone(48000, 0.5), ...tone(8000, 0.5)], 16000);
    expect(Math.abs(total(out) - 16000)).toBeLessThanOrEqual(4);
  });

  it('rejects impossible target rates and frees its state on unsubscribe', () => {
    expect(() => resample(0)).toThrow(AudioFormatError);
    expect(() => resample(44100.5)).toThrow(/integer/);
    const src = new Subject<AudioFrame>();
    const sub = src.pipe(resample(16000)).subscribe();
    for (const f of tone(48000, 0.1)) src.next(f);
    sub.unsubscribe();
    expect(src.observed).toBe(false);
  });
});
