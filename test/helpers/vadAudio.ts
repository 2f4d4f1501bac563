/** Audio for the VAD tests: the speech fixtures, silence, noise, framing, and what a VAD makes of them. */
import { from, lastValueFrom, toArray } from 'rxjs';
import { AudioFrame } from '../../src/audio/frame.ts';
import { readWav } from '../../src/audio/wav.ts';
import type { VAD, VADEvent } from '../../src/providers/types.ts';

export const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;
export const samples = async (name: string) => Int16Array.from((await lastValueFrom(readWav(fixture(name)).pipe(toArray()))).flatMap((f) => [...f.data]));
export const silence = (ms: number) => new Int16Array((16000 * ms) / 1000);
function seeded(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
export const whiteNoise = (ms: number, amplitude: number) => {
  const r = seeded(3);
  return Int16Array.from({ length: (16000 * ms) / 1000 }, () => Math.round((r() * 2 - 1) * amplitude));
};
export const join = (...parts: Int16Array[]) => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
};
export const frames = (pcm: Int16Array, rate = 16000, per = 320) => {
  const fs: AudioFrame[] = [];
  for (let i = 0; i < pcm.length; i += per) fs.push(new AudioFrame(pcm.slice(i, i + per), rate, 1, Math.min(per, pcm.length - i)));
  return fs;
};
export const run = (vad: VAD, fs: AudioFrame[]) => lastValueFrom(vad.stream(from(fs)).pipe(toArray()));
/** [start, end] of each detected segment, in ms of the input. */
export const segments = (evs: VADEvent[]) => {
  const out: Array<[number, number]> = [];
  for (const e of evs) {
    if (e.type === 'start_of_speech') out.push([e.timestamp - e.speechDuration, NaN]);
    if (e.type === 'end_of_speech') out[out.length - 1]![1] = e.timestamp - e.silenceDuration;
  }
  return out;
};

/** Every window's speech probability, in order. */
export const probabilities = async (vad: VAD, fs: AudioFrame[]) =>
  (await run(vad, fs)).filter((e) => e.type === 'inference_done').map((e) => (e as { probability: number }).probability);
