/**
 * The inference host's supervision in virtual time: restart backoff, its reset, a host that never listens, a host
 * that stops answering pings, stop.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { hostBackoffMs, inferenceHostMachine } from '../../machines/inferenceHost.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function supervisor() {
  const calls: { name: string; params: Record<string, unknown> }[] = [];
  let started = 0;
  let stopped = 0;
  const rec = (name: string) => (_: unknown, params: Record<string, unknown>) => void calls.push({ name, params });
  const actor = createActor(
    inferenceHostMachine.provide({
      actors: {
        host: fromCallback(() => {
          started++;
          return () => void stopped++;
        }) as never,
      },
      actions: { announceListening: rec('listening') as never, announceDown: rec('down') as never },
    }),
  ).start();
  const delays = () => calls.filter((c) => c.name === 'down').map((c) => c.params.delayMs);
  /** `ms` of virtual time with the host answering its ping every second. */
  const answering = (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      vi.advanceTimersByTime(Math.min(1000, ms - t));
      actor.send({ type: 'host.pong' });
    }
  };
  return { actor, calls, delays, answering, started: () => started, stopped: () => stopped };
}

describe('inferenceHost machine', () => {
  it('restarts an exited host after 250 ms, 500 ms, 1 s … up to 10 s while it keeps exiting', () => {
    expect([1, 2, 3, 4, 6, 7, 20].map(hostBackoffMs)).toEqual([250, 500, 1000, 2000, 8000, 10_000, 10_000]);
    const s = supervisor();
    expect(s.started()).toBe(1);
    s.actor.send({ type: 'host.listening', pid: 41 });
    expect(s.actor.getSnapshot().context.pid).toBe(41);
    for (let i = 0; i < 3; i++) {
      s.actor.send({ type: 'host.exited', code: null, signal: 'SIGKILL' });
      expect(s.actor.getSnapshot().value).toBe('down');
      expect(s.actor.getSnapshot().context.pid).toBeNull();
      vi.advanceTimersByTime(hostBackoffMs(i + 1) - 1);
      expect(s.started()).toBe(i + 1);
      vi.advanceTimersByTime(1);
      expect(s.started()).toBe(i + 2);
    }
    expect(s.delays()).toEqual([250, 500, 1000]);
    expect(s.calls.find((c) => c.name === 'down')!.params.why).toBe('exited (SIGKILL)');
    // Up again and stable for 30 s: the next exit starts from 250 ms again.
    s.actor.send({ type: 'host.listening', pid: 42 });
    expect(s.calls.at(-1)).toEqual({ name: 'listening', params: { pid: 42, restarts: 3 } });
    s.answering(30_000);
    expect(s.actor.getSnapshot().context.restarts).toBe(0);
    s.actor.send({ type: 'host.exited', code: 1, signal: null });
    expect(s.delays().at(-1)).toBe(250);
    expect(s.calls.at(-1)!.params.why).toBe('exited (code 1)');
  });

  it('a host that does not listen within 15 s is ended and started again; stop ends it for good', () => {
    const s = supervisor();
    vi.advanceTimersByTime(15_000);
    expect(s.stopped()).toBe(1);
    expect(s.calls.at(-1)).toEqual({ name: 'down', params: { why: 'did not listen within 15 s', restarts: 1, delayMs: 250 } });
    vi.advanceTimersByTime(250);
    expect(s.started()).toBe(2);
    s.actor.send({ type: 'host.listening', pid: 7 });
    s.actor.send({ type: 'stop' });
    expect(s.stopped()).toBe(2);
    expect(s.actor.getSnapshot().status).toBe('done');
    vi.advanceTimersByTime(60_000);
    expect(s.started()).toBe(2);
  });

  it('a running host that answers no ping for 5 s is ended and started again; one that answers is left alone', () => {
    const s = supervisor();
    s.actor.send({ type: 'host.listening', pid: 9 });
    s.answering(60_000);
    expect(s.stopped()).toBe(0);
    expect(s.actor.getSnapshot().matches({ up: 'running' })).toBe(true);
    vi.advanceTimersByTime(4999); // the last pong was at 60 s
    expect(s.stopped()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(s.stopped()).toBe(1);
    expect(s.actor.getSnapshot().context.pid).toBeNull();
    expect(s.calls.at(-1)).toEqual({ name: 'down', params: { why: 'stopped answering (hung)', restarts: 1, delayMs: 250 } });
    vi.advanceTimersByTime(250);
    expect(s.started()).toBe(2);
    // Still starting: pings are not asked of a host that does not listen yet (the listen timeout covers it).
    vi.advanceTimersByTime(10_000);
    expect(s.stopped()).toBe(1);
  });

  it('an exit while still starting counts as a restart too', () => {
    const s = supervisor();
    s.actor.send({ type: 'host.exited', code: 1, signal: null });
    vi.advanceTimersByTime(250);
    s.actor.send({ type: 'host.exited', code: 1, signal: null });
    expect(s.delays()).toEqual([250, 500]);
  });
});
