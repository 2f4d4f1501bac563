/** Cost of the audio DSP per second of audio: Speex resampling and RNNoise (median of 5 runs over 10 s). */
import { from, lastValueFrom, toArray } from 'rxjs';
import { AudioFrame } from '../src/audio/frame.ts';
import { resample } from '../src/audio/resample.ts';
import { rnnoise } from '../src/noise/rnnoise.ts';
import { percentile, round } from './lib/stats.ts';

function signal(rate: number, seconds: number): AudioFrame[] {
  const per = rate / 100;
  const out: AudioFrame[] = [];
  for (let k = 0; k < seconds * 100; k++) {
    const d = new Int16Array(per);
    for (let i = 0; i < per; i++) d[i] = Math.round(6000 * Math.sin((2 * Math.PI * 220 * (k * per + i)) / rate) + 500 * Math.sin(i));
    out.push(new AudioFrame(d, rate, 1, per));
  }
  return out;
}

async function msPerAudioSecond(run: () => Promise<unknown>, seconds: number) {
  await run(); // warm up (and load the WASM)
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await run();
    xs.push((performance.now() - t) / seconds);
  }
  return round(percentile(xs, 50));
}

export default async function () {
  const seconds = 10;
  const s48 = signal(48000, seconds);
  const s24 = signal(24000, seconds);
  const s16 = signal(16000, seconds);
  const rs = (frames: AudioFrame[], to: number) => () => lastValueFrom(from(frames).pipe(resample(to), toArray()));
  return {
    unit: 'ms of wall time per second of audio (single thread)',
    resample: {
      '48k→16k': await msPerAudioSecond(rs(s48, 16000), seconds),
      '24k→48k': await msPerAudioSecond(rs(s24, 48000), seconds),
      '16k→24k': await msPerAudioSecond(rs(s16, 24000), seconds),
    },
    rnnoise: {
      '48k': await msPerAudioSecond(() => lastValueFrom(rnnoise().process(from(s48)).pipe(toArray())), seconds),
      '16k (resampled around)': await msPerAudioSecond(() => lastValueFrom(rnnoise().process(from(s16)).pipe(toArray())), seconds),
    },
  };
}
