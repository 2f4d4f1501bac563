import { AudioFrame } from '../frame.ts';

/** A decoded clip: mono 16-bit samples at the mix's rate. */
export interface Clip {
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

/** One clip being played by the mix. */
export interface MixVoice {
  readonly clip: Clip;
  readonly gain: number;
  readonly loop: boolean;
  /** Next sample to play. */
  position: number;
  /** Called once, when the clip ran out (not looping) or the voice was removed. */
  onEnd(): void;
}

/**
 * The background sounds as one signal: each voice plays its clip from its position at its gain (looping clips
 * wrap with no gap), and the sum is added to the agent's frames or rendered alone. The cursor runs in audio time:
 * it advances by exactly the samples handed out, so a loop stays continuous however frames are cut.
 */
export class BackgroundMix {
  readonly voices = new Set<MixVoice>();
  private acc = new Float32Array(0);

  constructor(readonly sampleRate: number) {}

  /** Some voice is playing (at any gain). */
  get audible(): boolean {
    return this.voices.size > 0;
  }

  add(voice: MixVoice): void {
    this.voices.add(voice);
  }

  remove(voice: MixVoice): void {
    if (this.voices.delete(voice)) voice.onEnd();
  }

  clear(): void {
    for (const v of [...this.voices]) this.remove(v);
  }

  /** The next `n` samples of the background alone, as a mono frame. */
  render(n: number): AudioFrame {
    const acc = this.accumulate(n);
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = clip16(acc[i]!);
    return new AudioFrame(out, this.sampleRate, 1, n);
  }

  /**
   * The agent's frame with the next samples of the background added to every channel, clipped to 16 bits. A frame
   * with nothing to add (no voice, or every gain 0) comes back as the same object; one at another rate is not mixed
   * (the background still advances by its duration, to stay in time).
   */
  mixInto(frame: AudioFrame): AudioFrame {
    if (!this.voices.size) return frame;
    if (frame.sampleRate !== this.sampleRate) {
      this.skip(Math.round((frame.samplesPerChannel * this.sampleRate) / frame.sampleRate));
      return frame;
    }
    const n = frame.samplesPerChannel;
    let silent = true;
    for (const v of this.voices) if (v.gain !== 0) silent = false;
    if (silent) {
      this.skip(n);
      return frame;
    }
    const acc = this.accumulate(n);
    const ch = frame.channels;
    const src = frame.data;
    const out = new Int16Array(src.length);
    for (let i = 0; i < n; i++) {
      const b = acc[i]!;
      for (let c = 0; c < ch; c++) out[i * ch + c] = clip16(src[i * ch + c]! + b);
    }
    return new AudioFrame(out, frame.sampleRate, ch, n, frame.userdata);
  }

  /** Advances every voice by `n` samples without producing sound. */
  skip(n: number): void {
    for (const v of [...this.voices]) {
      const len = v.clip.samples.length;
      if (v.loop) v.position = len ? (v.position + n) % len : 0;
      else if ((v.position += n) >= len) this.remove(v);
    }
  }

  private accumulate(n: number): Float32Array {
    if (this.acc.length < n) this.acc = new Float32Array(n);
    const acc = this.acc;
    acc.fill(0, 0, n);
    for (const v of [...this.voices]) {
      const data = v.clip.samples;
      const len = data.length;
      const g = v.gain;
      let p = v.position;
      let i = 0;
      while (i < n && len > 0) {
        const run = Math.min(n - i, len - p);
        for (let k = 0; k < run; k++) acc[i + k]! += data[p + k]! * g;
        i += run;
        p += run;
        if (p >= len) {
          if (!v.loop) break;
          p = 0;
        }
      }
      v.position = p;
      if (!v.loop && p >= len) this.remove(v);
      else if (len === 0) this.remove(v);
    }
    return acc;
  }
}

/** Rounds and clamps to the 16-bit range (no wrap-around on overload). */
export function clip16(x: number): number {
  const r = Math.round(x);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
