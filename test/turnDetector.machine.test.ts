/**
 * The user-turn machine with an end-of-turn model, on XState's SimulatedClock: the decision to hold or end is the
 * machine's (a guard and a delay), the predictor only answers.
 */
import { from } from 'rxjs';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { userTurnMachine, type UserTurnInput } from '../machines/userTurn.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import { RecentAudio, recordRecentAudio } from '../src/turn/recentAudio.ts';

function run(detector: UserTurnInput['detector'], answer: (transcript: string) => Promise<number>, o: { hasStt?: boolean } = {}) {
  const clock = new SimulatedClock();
  const commits: { transcript: string; committedAt: number }[] = [];
  const asked: string[] = [];
  const m = userTurnMachine.provide({
    actors: {
      predictEndOfTurn: fromPromise(async ({ input }: { input: { transcript: string } }) => {
        asked.push(input.transcript);
        return { probability: await answer(input.transcript), at: clock.now() };
      }),
    },
  });
  const actor = createActor(m, { input: { mode: 'vad', hasStt: o.hasStt ?? true, minDelay: 500, maxDelay: 3000, detector, now: 0 }, clock });
  actor.on('endOfTurn', ({ info }) => void commits.push({ transcript: info.transcript, committedAt: info.committedAt }));
  actor.start();
  const flush = () => new Promise((r) => setTimeout(r, 0));
  /** Moves the simulated clock to `t`. */
  const to = (t: number) => clock.increment(t - clock.now());
  return { actor, clock, commits, asked, flush, to };
}

describe('user-turn machine with an end-of-turn model', () => {
  it('an audio model is asked without any transcript (VAD only) and holds the pause up to maxSilence', async () => {
    const t = run({ unlikelyThreshold: 0.5, input: 'audio', maxSilence: 1200 }, async () => 0.2, { hasStt: false });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 50 });
    t.to(1250);
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    await t.flush();
    expect(t.asked).toEqual(['']);
    t.to(2199);
    expect(t.commits).toEqual([]);
    t.to(2200);
    expect(t.commits).toEqual([{ transcript: '', committedAt: 2200 }]);
  });

  it('a text model with no transcript is not asked: the minimum delay applies', async () => {
    const t = run({ unlikelyThreshold: 0.5 }, async () => 0.1, { hasStt: false });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 50 });
    t.to(1250);
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    await t.flush();
    t.to(1500);
    expect(t.asked).toEqual([]);
    expect(t.commits).toEqual([{ transcript: '', committedAt: 1500 }]);
  });

  it('maxSilence shorter than minDelay never ends an unlikely turn sooner than a likely one', async () => {
    const t = run({ unlikelyThreshold: 0.5, input: 'audio', maxSilence: 100 }, async () => 0.1, { hasStt: false });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 50 });
    t.to(1250);
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    await t.flush();
    t.to(1499);
    expect(t.commits).toEqual([]);
    t.to(1500);
    expect(t.commits).toHaveLength(1);
  });

  it('after a failure the model is not asked again: later turns use the VAD delays', async () => {
    const t = run({ unlikelyThreshold: 0.5, input: 'audio', maxSilence: 2000 }, async () => {
      throw new Error('dead');
    });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 0 });
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'one', at: 900, now: 900 });
    t.to(1250);
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    await t.flush();
    t.to(1500);
    expect(t.commits).toEqual([{ transcript: 'one', committedAt: 1500 }]);
    t.actor.send({ type: 'TURN_ACCEPTED' });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 3000, now: 3000 });
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'two', at: 3900, now: 3900 });
    t.to(4250);
    t.actor.send({ type: 'VAD_SPEECH_END', at: 4000, now: 4250 });
    await t.flush();
    t.to(4500);
    expect(t.asked).toEqual(['one']);
    expect(t.commits.at(-1)).toEqual({ transcript: 'two', committedAt: 4500 });
    expect(t.actor.getSnapshot().context.detector.failed).toBe(true);
  });

  it('a late answer for a pause the user already broke is ignored', async () => {
    let release!: (p: number) => void;
    const t = run({ unlikelyThreshold: 0.5, input: 'audio' }, () => new Promise<number>((r) => (release = r)));
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 0 });
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'wait', at: 900, now: 900 });
    t.to(1250);
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 1300, now: 1350 });
    release(0.99);
    await t.flush();
    t.to(5000);
    expect(t.commits).toEqual([]);
    expect(t.actor.getSnapshot().matches({ endpointing: 'idle' })).toBe(true);
  });
});

describe('recent audio ring', () => {
  it('keeps the newest samples in order across wrap-arounds', () => {
    const r = new RecentAudio(0.001); // 16 samples
    r.write(Int16Array.from({ length: 10 }, (_, i) => i + 1));
    expect(r.length).toBe(10);
    r.write(Int16Array.from({ length: 10 }, (_, i) => i + 11));
    expect([...r.snapshot()].map((v) => Math.round(v * 32768))).toEqual(Array.from({ length: 16 }, (_, i) => i + 5));
    r.write(Int16Array.from({ length: 40 }, (_, i) => i + 100)); // more than the ring: only the last 16 stay
    expect([...r.snapshot()].map((v) => Math.round(v * 32768))).toEqual(Array.from({ length: 16 }, (_, i) => i + 124));
    r.clear();
    expect(r.snapshot()).toHaveLength(0);
  });

  it('the tap passes frames through untouched and stores them mono at 16 kHz (48 kHz stereo in)', async () => {
    const ring = new RecentAudio();
    // 1 s of 48 kHz stereo: left 1000, right 3000 → mono 2000.
    const frames = Array.from({ length: 50 }, () => {
      const d = new Int16Array(960 * 2);
      for (let i = 0; i < 960; i++) (d[2 * i] = 1000), (d[2 * i + 1] = 3000);
      return new AudioFrame(d, 48000, 2, 960);
    });
    const seen: AudioFrame[] = [];
    await new Promise<void>((resolve) => recordRecentAudio(from(frames), ring).subscribe({ next: (f) => seen.push(f), complete: resolve }));
    expect(seen).toEqual(frames);
    // The resampler's WASM loads on first use: the side branch catches up after the frames went through.
    for (let i = 0; i < 200 && ring.length < 15500; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ring.length).toBeGreaterThan(15500);
    expect(ring.length).toBeLessThanOrEqual(16000);
    const audio = ring.snapshot();
    const middle = audio.subarray(4000, 12000);
    expect(middle.every((v) => Math.abs(v * 32768 - 2000) < 40)).toBe(true);
  });
});
