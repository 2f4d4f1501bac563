/**
 * Frames already at the target rate never wait for the Speex WASM module. This file must not load the module
 * before its first test (vitest gives each file fresh modules), so it holds only these cases.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { resample } from '../src/audio/resample.ts';
import { loadSpeex, speexIfLoaded } from '../src/audio/speex.ts';

const frame = (rate: number, n = rate / 100, v = 1000) => new AudioFrame(new Int16Array(n).fill(v), rate, 1, n);

describe('resample before the Speex module has loaded', () => {
  it('passes frames at the target rate through synchronously, and keeps the order once a frame needs resampling', async () => {
    expect(speexIfLoaded()).toBeNull();
    const src = new Subject<AudioFrame>();
    const got: Array<{ rate: number; n: number; tag?: unknown }> = [];
    let done = false;
    src.pipe(resample(24000)).subscribe({ next: (f) => got.push({ rate: f.sampleRate, n: f.samplesPerChannel }), complete: () => (done = true) });

    src.next(frame(24000));
    src.next(frame(24000));
    // Delivered at once, and the module is still not loaded: nothing waited for it, nothing started loading it.
    expect(got).toEqual([{ rate: 24000, n: 240 }, { rate: 24000, n: 240 }]);
    expect(speexIfLoaded()).toBeNull();

    src.next(frame(16000)); // needs the resampler: waits for the module…
    src.next(frame(24000)); // …and a later frame at the target rate waits behind it
    src.complete();
    expect(got).toHaveLength(2);
    expect(done).toBe(false);

    await loadSpeex();
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(true);
    const rates = got.map((g) => g.rate);
    expect(rates.every((r) => r === 24000)).toBe(true);
    // 160 samples at 16 kHz become ~240 at 24 kHz (resampled output, including the flushed tail), then the last frame.
    const resampled = got.slice(2, -1).reduce((a, g) => a + g.n, 0);
    expect(resampled).toBeGreaterThanOrEqual(235);
    expect(resampled).toBeLessThanOrEqual(245);
    expect(got.at(-1)).toEqual({ rate: 24000, n: 240 });
  });
});
