import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRoomAudioOutputActor, type QueuedAudio, type RoomAudioSink } from '../../actors/roomAudioOutput.ts';

/** A sink whose captures and playout the test resolves by hand, in virtual time. */
function fakeSink(opts: { subscribed?: boolean } = {}) {
  const queue: QueuedAudio[] = [];
  const log: string[] = [];
  let wake: (() => void) | null = null;
  let release: (() => void) | null = null;
  let fail: ((e: Error) => void) | null = null;
  let subscribe: (() => void) | null = null;
  let playout: (() => void) | null = null;
  const sink: RoomAudioSink = {
    take: () => queue.shift(),
    frameQueued: () => (queue.length ? Promise.resolve() : new Promise((r) => (wake = r))),
    capture: (p) =>
      new Promise<void>((res, rej) => {
        log.push(`capture ${p.ms}`);
        release = res;
        fail = rej;
      }),
    waitForSubscriber: () => (opts.subscribed === false ? new Promise((r) => (subscribe = r)) : Promise.resolve()),
    waitForPlayout: () => new Promise((r) => (playout = r)),
    clear: () => log.push('clear'),
    close: () => log.push('close'),
    playbackStarted: () => log.push('started'),
    finished: (i) => log.push(`finished ${i ? 'interrupted' : 'complete'}`),
    captureError: (m) => log.push(`error ${m}`),
  };
  const actor = createRoomAudioOutputActor(sink, { captureStallMs: 1200 });
  actor.start();
  const push = (ms: number) => {
    queue.push({ ms });
    actor.send({ type: 'FRAME', ms });
    wake?.();
    wake = null;
  };
  const tick = () => vi.advanceTimersByTimeAsync(0);
  return {
    actor, log, push, tick, queue,
    release: async () => (release?.(), await tick()),
    fail: async (e: Error) => (fail?.(e), await tick()),
    subscribe: async () => (subscribe?.(), await tick()),
    playout: async () => (playout?.(), await tick()),
    state: () => JSON.stringify(actor.getSnapshot().value),
  };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('roomAudioOutput machine', () => {
  it('captures one piece at a time, reports started at the first capture, and finishes after flush + playout', async () => {
    const t = fakeSink();
    t.push(20);
    t.push(20);
    await t.tick();
    expect(t.log).toEqual(['capture 20', 'started']);
    await t.release();
    expect(t.log).toEqual(['capture 20', 'started', 'capture 20']);
    t.actor.send({ type: 'FLUSH' });
    await t.release();
    expect(t.state()).toBe('{"segment":"draining"}');
    await t.playout();
    expect(t.log.at(-1)).toBe('finished complete');
    expect(t.state()).toBe('"idle"');
  });

  it('waits for the first subscriber before any capture; a clear meanwhile ends the segment at once', async () => {
    const t = fakeSink({ subscribed: false });
    t.push(20);
    await t.tick();
    expect(t.log).toEqual([]);
    t.actor.send({ type: 'CLEAR' });
    expect(t.log).toEqual(['clear', 'finished interrupted']);
    expect(t.state()).toBe('"idle"');
  });

  it('clear while capturing drops the source queue and finishes interrupted; the next segment starts fresh', async () => {
    const t = fakeSink();
    t.push(20);
    t.push(20);
    await t.tick();
    t.actor.send({ type: 'CLEAR' });
    expect(t.log).toEqual(['capture 20', 'started', 'clear', 'finished interrupted']);
    t.queue.length = 0;
    await t.release();
    t.push(20);
    await t.tick();
    expect(t.log.slice(-2)).toEqual(['capture 20', 'started']);
  });

  it('a capture that throws or stalls ends the segment with an error instead of wedging it', async () => {
    const t = fakeSink();
    t.push(20);
    await t.tick();
    await t.fail(new Error('InvalidState'));
    expect(t.log).toEqual(['capture 20', 'started', 'error InvalidState', 'clear', 'finished interrupted']);
    t.push(20);
    await t.tick();
    await vi.advanceTimersByTimeAsync(1199);
    expect(t.log.at(-1)).toBe('started');
    await vi.advanceTimersByTimeAsync(1);
    expect(t.log.slice(-3)).toEqual(['error the audio source stopped taking frames (capture stalled)', 'clear', 'finished interrupted']);
    expect(t.state()).toBe('"idle"');
  });

  it('audio arriving after the flush continues the segment', async () => {
    const t = fakeSink();
    t.push(20);
    t.actor.send({ type: 'FLUSH' });
    await t.tick();
    await t.release();
    expect(t.state()).toBe('{"segment":"draining"}');
    t.push(20);
    await t.tick();
    expect(t.log.filter((l) => l === 'capture 20')).toHaveLength(2);
    expect(t.state()).toBe('{"segment":{"capturing":"inFlight"}}');
    expect(t.log.filter((l) => l.startsWith('finished'))).toEqual([]);
  });
});
