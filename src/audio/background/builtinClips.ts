/**
 * The built-in background clips, synthesised at load time at the rate they will play at (nothing is shipped or
 * downloaded; the sounds are this project's own, Apache-2.0). Each is built from a fixed seed, so it is the same
 * every time, and made to loop without a seam.
 */
import type { Clip } from './mix.ts';

export const BuiltinAudioClip = {
  /** A quiet room: low, slowly breathing noise. Loops every 8 s. */
  OFFICE_AMBIENCE: 'builtin:office-ambience',
  /** Soft irregular key clicks, with pauses. Loops every 6 s. */
  KEYBOARD_TYPING: 'builtin:keyboard-typing',
  /** A gentle two-note chime every 2 s. */
  SOFT_CHIME: 'builtin:soft-chime',
} as const;
export type BuiltinAudioClip = (typeof BuiltinAudioClip)[keyof typeof BuiltinAudioClip];

const BUILTINS: Record<BuiltinAudioClip, (rate: number) => Float32Array> = {
  'builtin:office-ambience': officeAmbience,
  'builtin:keyboard-typing': keyboardTyping,
  'builtin:soft-chime': softChime,
};

export function isBuiltinClip(source: unknown): source is BuiltinAudioClip {
  return typeof source === 'string' && Object.hasOwn(BUILTINS, source);
}

export function builtinClip(name: BuiltinAudioClip, sampleRate: number): Clip {
  const x = BUILTINS[name](sampleRate);
  const samples = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) samples[i] = Math.round(Math.max(-1, Math.min(1, x[i]!)) * 32767);
  return { samples, sampleRate };
}

/** A small deterministic PRNG (mulberry32): uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Blends the `fade` samples past the loop's end into its start, so the end runs smoothly into the beginning. */
function seamless(x: Float32Array, length: number, fade: number): Float32Array {
  const out = x.slice(0, length);
  for (let i = 0; i < fade; i++) {
    const w = i / fade;
    out[i] = out[i]! * w + x[length + i]! * (1 - w);
  }
  return out;
}

function officeAmbience(rate: number): Float32Array {
  const length = rate * 8;
  const fade = Math.round(rate * 0.5);
  const rnd = prng(0x0ff1ce);
  const x = new Float32Array(length + fade);
  // Brown-ish noise: white noise through two one-pole low-passes (a soft rumble), a little air on top.
  const a1 = Math.exp((-2 * Math.PI * 300) / rate);
  const a2 = Math.exp((-2 * Math.PI * 900) / rate);
  let l1 = 0;
  let l2 = 0;
  for (let i = 0; i < x.length; i++) {
    const w = rnd() * 2 - 1;
    l1 = a1 * l1 + (1 - a1) * w;
    l2 = a2 * l2 + (1 - a2) * l1;
    // Slow "breathing" of the room: two incommensurate swells, periods dividing the 8 s loop.
    const t = i / rate;
    const swell = 0.8 + 0.12 * Math.sin((2 * Math.PI * t) / 8) + 0.08 * Math.sin((2 * Math.PI * t) / 2.667);
    x[i] = (l2 * 0.3 + w * 0.002) * swell; // about -30 dBFS: ambience under a voice, not over it
  }
  return seamless(x, length, fade);
}

function keyboardTyping(rate: number): Float32Array {
  const length = rate * 6;
  const rnd = prng(0x6e7);
  const x = new Float32Array(length);
  let t = 0.05;
  while (t < 5.8) {
    const at = Math.round(t * rate);
    const amp = 0.1 + rnd() * 0.12;
    const decay = 0.0015 + rnd() * 0.002; // seconds
    const dur = Math.round(rate * 0.012);
    let hp = 0;
    let prev = 0;
    for (let k = 0; k < dur && at + k < length; k++) {
      const w = rnd() * 2 - 1;
      hp = 0.7 * (hp + w - prev); // a gentle high-pass: clicks, not thuds
      prev = w;
      x[at + k]! += hp * amp * Math.exp(-k / (decay * rate));
    }
    // Typing rhythm: mostly 90–230 ms apart, now and then a short pause between words.
    t += rnd() < 0.15 ? 0.35 + rnd() * 0.3 : 0.09 + rnd() * 0.14;
  }
  return x;
}

function softChime(rate: number): Float32Array {
  const length = rate * 2;
  const x = new Float32Array(length);
  const notes = [
    { f: 659.25, at: 0.0 },
    { f: 523.25, at: 0.18 },
  ];
  for (const { f, at } of notes) {
    const start = Math.round(at * rate);
    for (let k = 0; start + k < length; k++) {
      const s = k / rate;
      const env = Math.min(1, s / 0.01) * Math.exp(-s / 0.35);
      x[start + k]! += 0.12 * env * (Math.sin(2 * Math.PI * f * s) + 0.25 * Math.sin(4 * Math.PI * f * s));
    }
  }
  return x;
}
