/** The inference host's supervision in virtual time: restart backoff, its reset, a host that never listens, stop. */
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
  return { actor, calls, delays, started: () => started, stopped: () => stopped };
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
    vi.advanceTimersByTime(30_000);
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

  it('an exit while still starting counts as a restart too', () => {
    const s = supervisor();
    s.actor.send({ type: 'host.exited', code: 1, signal: null });
    vi.advanceTimersByTime(250);
    s.actor.send({ type: 'host.exited', code: 1, signal: null });
    expect(s.delays()).toEqual([250, 500]);
  });
});
