/**
 * The user's most recent audio for audio-based end-of-turn models: a fixed ring of mono 16 kHz samples, fed from
 * the session's input stream (mixed down and resampled on the way in), read as one contiguous copy when a
 * detector is asked. Memory is bounded by the ring (8 s = 256 KB of Int16) however long the session runs.
 */
import { Observable, Subject } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import { toMono } from '../audio/operators.ts';
import { resample } from '../audio/resample.ts';

export const RECENT_AUDIO_RATE = 16000;

export class RecentAudio {
  private readonly ring: Int16Array;
  private writeAt = 0;
  private filled = 0;

  constructor(readonly seconds = 8) {
    this.ring = new Int16Array(Math.round(seconds * RECENT_AUDIO_RATE));
  }

  /** Appends mono 16 kHz samples; the oldest are overwritten. */
  write(samples: Int16Array): void {
    const cap = this.ring.length;
    const src = samples.length > cap ? samples.subarray(samples.length - cap) : samples;
    const first = Math.min(src.length, cap - this.writeAt);
    this.ring.set(src.subarray(0, first), this.writeAt);
    this.ring.set(src.subarray(first), 0);
    this.writeAt = (this.writeAt + src.length) % cap;
    this.filled = Math.min(cap, this.filled + src.length);
  }

  /** Samples held (at most `seconds` × 16000). */
  get length(): number {
    return this.filled;
  }

  /** The held audio, oldest first, as floats in −1..1 (a copy: the ring goes on being written). */
  snapshot(): Float32Array {
    const cap = this.ring.length;
    const out = new Float32Array(this.filled);
    const start = (this.writeAt - this.filled + cap) % cap;
    for (let i = 0; i < this.filled; i++) out[i] = this.ring[(start + i) % cap]! / 32768;
    return out;
  }

  clear(): void {
    this.writeAt = 0;
    this.filled = 0;
  }
}

/**
 * Passes `audio` through unchanged while a copy, mixed to mono and resampled to 16 kHz, is written into `ring`.
 * The copy is a side branch: its failure never disturbs the frames the VAD and the STT receive.
 */
export function recordRecentAudio(audio: Observable<AudioFrame>, ring: RecentAudio): Observable<AudioFrame> {
  return new Observable<AudioFrame>((sub) => {
    const side = new Subject<AudioFrame>();
    let ended = false;
    const feed = side.pipe(toMono(), resample(RECENT_AUDIO_RATE)).subscribe({ next: (f) => ring.write(f.data), error: () => {} });
    const main = audio.subscribe({
      next: (f) => {
        side.next(f);
        sub.next(f);
      },
      error: (e) => {
        side.complete();
        sub.error(e);
      },
      complete: () => {
        ended = true;
        side.complete();
        sub.complete();
      },
    });
    return () => {
      main.unsubscribe();
      // An input that ended lets the copy finish (the resampler may still hold frames); otherwise it stops now.
      if (!ended) feed.unsubscribe();
    };
  });
}
