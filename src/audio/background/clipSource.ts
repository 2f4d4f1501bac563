/**
 * What a background sound can be given as, and turning it into a clip at the mix's rate: a built-in clip
 * (synthesised), a WAV file path, or WAV bytes; alone, with a volume, or as a list to choose from by probability.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { AudioFormatError } from '../frame.ts';
import { toMono } from '../operators.ts';
import { resample } from '../resample.ts';
import { readWav } from '../wav.ts';
import { builtinClip, isBuiltinClip, type BuiltinAudioClip } from './builtinClips.ts';
import type { Clip } from './mix.ts';

export type BackgroundAudioSource = BuiltinAudioClip | string | Uint8Array;

export interface AudioConfig {
  source: BackgroundAudioSource;
  /** Gain applied to the clip, 0..4 (1 = as recorded). Default 1. */
  volume?: number;
  /** In a list: the chance this one is picked, 0..1. Unset in every entry: an equal choice. */
  probability?: number;
}

/** A sound option: one source, one config, or a list to pick from each time it plays. */
export type SoundSpec = BackgroundAudioSource | AudioConfig | AudioConfig[];

/** The spec as a validated list of configs (volume and probability checked: a bad value is a TypeError now). */
export function soundConfigs(spec: SoundSpec, what: string): AudioConfig[] {
  const list = Array.isArray(spec) ? spec : typeof spec === 'string' || spec instanceof Uint8Array ? [{ source: spec }] : [spec];
  if (!list.length) throw new TypeError(`${what}: an empty list of sounds`);
  for (const c of list) {
    if (!c || (typeof c.source !== 'string' && !(c.source instanceof Uint8Array))) throw new TypeError(`${what}: each sound needs a source (a BuiltinAudioClip, a WAV path or WAV bytes)`);
    if (c.volume !== undefined && !(Number.isFinite(c.volume) && c.volume >= 0 && c.volume <= 4)) throw new TypeError(`${what}: volume must be a number from 0 to 4, got ${c.volume}`);
    if (c.probability !== undefined && !(Number.isFinite(c.probability) && c.probability >= 0 && c.probability <= 1)) {
      throw new TypeError(`${what}: probability must be a number from 0 to 1, got ${c.probability}`);
    }
  }
  const total = list.reduce((s, c) => s + (c.probability ?? 0), 0);
  if (total > 1 + 1e-9) throw new TypeError(`${what}: the probabilities add up to ${Math.round(total * 1000) / 1000}, more than 1`);
  return list;
}

/**
 * Picks one config for a uniform draw `r` in [0, 1). With probabilities, each is picked with its own chance and
 * what is left of 1 is the chance of no sound at all (null); without any, every entry is equally likely.
 */
export function chooseSound(list: AudioConfig[], r: number): AudioConfig | null {
  if (list.every((c) => c.probability === undefined)) return list[Math.min(list.length - 1, Math.floor(r * list.length))]!;
  let edge = 0;
  for (const c of list) {
    edge += c.probability ?? 0;
    if (r < edge) return c;
  }
  return null;
}

export function describeSource(source: BackgroundAudioSource): string {
  return typeof source === 'string' ? source : `WAV bytes (${source.length} B)`;
}

/** The clip for a source, mono at `sampleRate`; a WAV that cannot be used rejects with an AudioFormatError naming it. */
export async function loadClip(source: BackgroundAudioSource, sampleRate: number): Promise<Clip> {
  if (isBuiltinClip(source)) return builtinClip(source, sampleRate);
  if (typeof source === 'string' && source.startsWith('builtin:')) {
    throw new AudioFormatError(`unknown built-in clip ${source} (see BuiltinAudioClip)`);
  }
  try {
    const frames = await lastValueFrom(readWav(source, { frameMs: 100 }).pipe(toMono(), resample(sampleRate), toArray()));
    const n = frames.reduce((s, f) => s + f.samplesPerChannel, 0);
    if (n === 0) throw new AudioFormatError('it holds no audio');
    const samples = new Int16Array(n);
    let off = 0;
    for (const f of frames) {
      samples.set(f.data, off);
      off += f.data.length;
    }
    return { samples, sampleRate };
  } catch (e) {
    throw new AudioFormatError(`background audio clip ${describeSource(source)}: ${(e as Error).message}`);
  }
}
