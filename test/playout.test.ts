import { Observable, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { playSegment, startSegment } from '../actors/playout.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import { FakeAudioOutput } from '../src/testing/index.ts';

const frame = (ms = 20) => new AudioFrame(new Int16Array(ms * 24), 24000, 1, ms * 24);

describe('playout segment', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('plays to the end and reports what was pushed and played', async () => {
    const out = new FakeAudioOutput();
    const started = vi.fn();
    const seg = startSegment({ audio: new Observable((s) => (s.next(frame()), s.next(frame()), s.complete())), output: out, onPlaybackStarted: started });
    await vi.advanceTimersByTimeAsync(50);
    const r = await seg.done;
    expect(r).toMatchObject({ pushed: true, pushedMs: 40, interrupted: false, positionMs: 40 });
    expect(started).toHaveBeenCalledTimes(1);
  });

  it('interrupt() stops the audio stream and clears the output at once, keeping the heard position', async () => {
    const out = new FakeAudioOutput();
    const audio = new Subject<AudioFrame>();
    const seg = startSegment({ audio, output: out, onPlaybackStarted: () => {} });
    audio.next(frame(100));
    await vi.advanceTimersByTimeAsync(30);
    seg.interrupt();
    seg.interrupt(); // idempotent
    expect(audio.observed).toBe(false); // the TTS stream is cancelled
    const r = await seg.done;
    expect(r.interrupted).toBe(true);
    expect(r.positionMs).toBe(30);
    expect(out.segments).toEqual([expect.objectContaining({ pushedMs: 100, playedMs: 30, interrupted: true })]);
  });

  it('an interruption before any frame settles with nothing pushed and leaves the output untouched', async () => {
    const out = new FakeAudioOutput();
    const audio = new Subject<AudioFrame>();
    const seg = startSegment({ audio, output: out, onPlaybackStarted: () => {} });
    seg.interrupt();
    audio.next(frame());
    expect(await seg.done).toMatchObject({ pushed: false, interrupted: true, positionMs: 0 });
    expect(out.segments).toEqual([]);
  });

  it('playSegment: aborting the signal interrupts; an already aborted signal plays nothing', async () => {
    const out = new FakeAudioOutput();
    const audio = new Subject<AudioFrame>();
    const ac = new AbortController();
    const p = playSegment({ audio, output: out, onPlaybackStarted: () => {} }, ac.signal);
    audio.next(frame(100));
    await vi.advanceTimersByTimeAsync(10);
    ac.abort('interrupted');
    expect((await p).interrupted).toBe(true);
    expect(out.segments[0]).toMatchObject({ playedMs: 10, interrupted: true });

    const pre = new AbortController();
    pre.abort('interrupted');
    const r = await playSegment({ audio: new Observable((s) => (s.next(frame()), s.complete())), output: out, onPlaybackStarted: () => {} }, pre.signal);
    expect(r).toMatchObject({ pushed: false, interrupted: true });
    expect(out.segments).toHaveLength(1);
  });
});
