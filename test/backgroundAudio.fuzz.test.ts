/**
 * The hand-over between background and agent segments under random orders (fast-check, fixed seed, virtual time):
 * segments of random length streamed at random pace, interrupted at random moments (before, during or after the
 * hand-over), with the background switched on and off between them. The agent's playout must always settle, with
 * one playback_finished per segment, positions equal to what was pushed when not interrupted, and no device
 * segment ever holding both background and agent audio.
 */
import fc from 'fast-check';
import { Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSegment, type PlayoutResult } from '../actors/playout.ts';
import { AgentSession, AudioFrame, BackgroundAudioPlayer, type PlayHandle } from '../src/index.ts';
import { encodeWav } from '../src/audio/wav.ts';
import { FakeAudioOutput } from '../src/testing/index.ts';
import { useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const RATE = 8000;
const AMBIENT = 10;
const VOICE = 1000;

class RecordingOutput extends FakeAudioOutput {
  /** Distinct first-sample values per device segment. */
  readonly values: Array<Set<number>> = [new Set()];
  constructor() {
    super({ sampleRate: RATE });
    this.events$.subscribe((e) => e.type === 'playback_finished' && this.values.push(new Set()));
  }
  override captureFrame(frame: AudioFrame): void {
    this.values.at(-1)!.add(frame.data[0]!);
    super.captureFrame(frame);
  }
}

const segmentArb = fc.record({
  gapMs: fc.integer({ min: 0, max: 300 }),
  frames: fc.integer({ min: 1, max: 15 }),
  frameGapMs: fc.constantFrom(0, 0, 5, 20, 40),
  interruptAfterMs: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
  toggleAmbient: fc.boolean(),
});

describe('background hand-over, fuzzed', () => {
  it('every agent segment settles exactly once, with its own positions, never sharing a device segment', async () => {
    const property = fc.asyncProperty(fc.array(segmentArb, { minLength: 1, maxLength: 5 }), fc.constantFrom(20, 60, 100), async (segments, leadMs) => {
      const session = new AgentSession({});
      const device = new RecordingOutput();
      session.output.audio = device;
      const bg = new BackgroundAudioPlayer({ leadMs });
      await bg.start({ session });
      const mixer = session.output.audio!;
      const finished: number[] = [];
      const sub = mixer.events$.subscribe((e) => e.type === 'playback_finished' && finished.push(e.playbackPosition));
      const ambientWav = encodeWav([new AudioFrame(new Int16Array(RATE).fill(AMBIENT), RATE, 1, RATE)]);
      let ambient: PlayHandle | null = bg.play({ source: ambientWav }, { loop: true });
      const results: PlayoutResult[] = [];
      try {
        for (const s of segments) {
          await vi.advanceTimersByTimeAsync(s.gapMs);
          if (s.toggleAmbient) {
            if (ambient) ambient.stop();
            ambient = ambient ? null : bg.play({ source: ambientWav }, { loop: true });
          }
          const audio = new Observable<AudioFrame>((o) => {
            let i = 0;
            let timer: ReturnType<typeof setTimeout> | undefined;
            const next = () => {
              while (i < s.frames) {
                i++;
                o.next(new AudioFrame(new Int16Array(RATE / 50).fill(VOICE), RATE, 1, RATE / 50));
                if (s.frameGapMs) return void (timer = setTimeout(next, s.frameGapMs));
              }
              o.complete();
            };
            next();
            return () => clearTimeout(timer);
          });
          const seg = startSegment({ audio, output: mixer, onPlaybackStarted: () => {} });
          if (s.interruptAfterMs !== null) setTimeout(() => seg.interrupt(), s.interruptAfterMs);
          let result: PlayoutResult | null = null;
          void seg.done.then((r) => (result = r));
          for (let t = 0; t < 20_000 && !result; t += 10) await vi.advanceTimersByTimeAsync(10);
          expect(result, 'the segment settled').not.toBeNull();
          results.push(result!);
          await vi.advanceTimersByTimeAsync(Math.max(0, (s.interruptAfterMs ?? 0) + 1)); // a late interrupt() is a no-op
        }
        const pushed = results.filter((r) => r.pushed);
        expect(finished).toHaveLength(pushed.length);
        for (const r of pushed) {
          expect(r.positionMs).toBeLessThanOrEqual(r.pushedMs + 1e-9);
          if (!r.interrupted) expect(r.positionMs).toBeCloseTo(r.pushedMs, 6);
        }
        for (const values of device.values) {
          const agent = [...values].some((v) => v === VOICE || v === VOICE + AMBIENT);
          const background = [...values].some((v) => v === AMBIENT);
          expect(agent && background, `a device segment holds ${[...values].join(', ')}`).toBe(false);
        }
      } finally {
        sub.unsubscribe();
        await session.close();
      }
    });
    await fc.assert(property, { seed: 11, numRuns: 60 });
  }, 120_000);
});
