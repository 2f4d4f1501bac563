/** The worker's statecharts in virtual time: connection backoff, FULL and drain; each job's bounded waits. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { backoffMs, workerConnectionMachine } from '../../machines/workerConnection.ts';
import { jobMachine, type JobInput } from '../../machines/job.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function connection(input = { loadThreshold: 0.7, maxRetry: 3, drainTimeout: 60_000 }) {
  const calls: { name: string; params?: unknown }[] = [];
  let sockets = 0;
  const rec = (name: string) => (_: unknown, params?: unknown) => void calls.push({ name, params });
  const actor = createActor(
    workerConnectionMachine.provide({
      actors: { socket: fromCallback(() => void sockets++) as never },
      actions: {
        sendStatus: rec('sendStatus'),
        offerJob: rec('offerJob'),
        declineJob: rec('declineJob'),
        announceRegistered: rec('announceRegistered'),
        announceDisconnected: rec('announceDisconnected'),
        announceFailed: rec('announceFailed'),
        announceDraining: rec('announceDraining'),
        announceClosed: rec('announceClosed'),
      },
    }),
    { input },
  ).start();
  return { actor, calls, sockets: () => sockets, last: (name: string) => calls.filter((c) => c.name === name).at(-1)?.params };
}

describe('workerConnection machine', () => {
  it('backs off 0.5 s, 1 s, 2 s … up to 10 s between attempts, and gives up after maxRetry', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    const { actor, calls, sockets } = connection();
    expect(sockets()).toBe(1);
    actor.send({ type: 'socket.closed', error: 'refused' });
    expect(actor.getSnapshot().matches({ running: { link: 'offline' } })).toBe(true);
    vi.advanceTimersByTime(499);
    expect(sockets()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sockets()).toBe(2);
    actor.send({ type: 'socket.closed' });
    vi.advanceTimersByTime(1000);
    expect(sockets()).toBe(3);
    actor.send({ type: 'socket.closed' });
    vi.advanceTimersByTime(2000);
    actor.send({ type: 'socket.closed' });
    expect(calls.some((c) => c.name === 'announceFailed')).toBe(true);
    expect(actor.getSnapshot().status).toBe('done');
    expect(calls.filter((c) => c.name === 'announceDisconnected').map((c) => (c.params as { delayMs: number }).delayMs)).toEqual([500, 1000, 2000, 4000]);
  });

  it('a registration resets the retry count; a socket that never registers is dropped after 10 s', () => {
    const { actor, sockets } = connection();
    actor.send({ type: 'socket.closed' });
    vi.advanceTimersByTime(500);
    actor.send({ type: 'socket.registered', workerId: 'AW_1' });
    expect(actor.getSnapshot().context.retries).toBe(0);
    actor.send({ type: 'socket.closed' });
    vi.advanceTimersByTime(500);
    expect(sockets()).toBe(3);
    vi.advanceTimersByTime(10_000);
    expect(actor.getSnapshot().context.lastError).toBe('no registration reply within 10 s');
    expect(actor.getSnapshot().matches({ running: { link: 'offline' } })).toBe(true);
  });

  it('reports FULL at and above loadThreshold, AVAILABLE below; declines job requests while FULL', () => {
    const { actor, last, calls } = connection();
    actor.send({ type: 'socket.registered', workerId: 'AW_1' });
    expect(last('sendStatus')).toEqual({ full: false, load: 0, jobCount: 0 });
    actor.send({ type: 'load.sampled', load: 0.7 });
    expect(last('sendStatus')).toEqual({ full: true, load: 0.7, jobCount: 0 });
    actor.send({ type: 'job.requested', jobId: 'AJ_1' });
    expect(last('declineJob')).toEqual({ jobId: 'AJ_1' });
    actor.send({ type: 'load.sampled', load: 0.69 });
    expect(last('sendStatus')).toEqual({ full: false, load: 0.69, jobCount: 0 });
    actor.send({ type: 'job.requested', jobId: 'AJ_2' });
    expect(last('offerJob')).toEqual({ jobId: 'AJ_2' });
    expect(calls.filter((c) => c.name === 'offerJob')).toHaveLength(1);
  });

  it('drain: FULL with load 1, no new jobs, closes when the last job ends', () => {
    const { actor, last, calls } = connection();
    actor.send({ type: 'socket.registered', workerId: 'AW_1' });
    actor.send({ type: 'jobs.changed', count: 2 });
    actor.send({ type: 'drain' });
    expect(last('sendStatus')).toEqual({ full: true, load: 1, jobCount: 2 });
    actor.send({ type: 'job.requested', jobId: 'AJ_9' });
    expect(last('declineJob')).toEqual({ jobId: 'AJ_9' });
    actor.send({ type: 'jobs.changed', count: 1 });
    expect(actor.getSnapshot().status).toBe('active');
    actor.send({ type: 'jobs.changed', count: 0 });
    expect(actor.getSnapshot().status).toBe('done');
    expect(calls.at(-1)!.name).toBe('announceClosed');
  });

  it('drain gives up waiting after drainTimeout', () => {
    const { actor } = connection({ loadThreshold: 0.7, maxRetry: 3, drainTimeout: 5_000 });
    actor.send({ type: 'socket.registered', workerId: 'AW_1' });
    actor.send({ type: 'jobs.changed', count: 1 });
    actor.send({ type: 'drain' });
    vi.advanceTimersByTime(4_999);
    expect(actor.getSnapshot().status).toBe('active');
    vi.advanceTimersByTime(1);
    expect(actor.getSnapshot().status).toBe('done');
  });
});

const JOB: JobInput = { jobId: 'AJ_1', requestTimeout: 9000, assignmentTimeout: 7500, launchTimeout: 15000, pingTimeout: 3000, shutdownTimeout: 10000, memoryWarnMb: 300, memoryLimitMb: 500 };
function job(input: Partial<JobInput> = {}) {
  const calls: { name: string; params?: unknown }[] = [];
  const rec = (name: string) => (_: unknown, params?: unknown) => void calls.push({ name, params });
  const actor = createActor(
    jobMachine.provide({
      actions: {
        answerAvailable: rec('answerAvailable'),
        answerUnavailable: rec('answerUnavailable'),
        launch: rec('launch'),
        reportStatus: rec('reportStatus'),
        requestShutdown: rec('requestShutdown'),
        killProcess: rec('killProcess'),
        warnMemory: rec('warnMemory'),
      },
    }),
    { input: { ...JOB, ...input } },
  ).start();
  const running = () => {
    actor.send({ type: 'request.accepted' });
    actor.send({ type: 'assigned' });
    actor.send({ type: 'process.started' });
  };
  return { actor, calls, running, names: () => calls.map((c) => c.name) };
}

describe('job machine', () => {
  it('accepted → assigned → launched → running → ended: status running then success', () => {
    const { actor, calls, running } = job();
    running();
    actor.send({ type: 'job.ended', reason: 'room disconnected', error: null });
    expect(calls.filter((c) => c.name === 'reportStatus').map((c) => c.params)).toEqual([
      { status: 'running', error: '' },
      { status: 'success', error: '' },
    ]);
    expect(actor.getSnapshot().output).toEqual({ outcome: 'success', reason: 'room disconnected', error: null });
  });

  it('onRequest too slow: answered unavailable before the server gives up; rejected with terminate', () => {
    const slow = job();
    vi.advanceTimersByTime(9000);
    expect(slow.calls).toEqual([{ name: 'answerUnavailable', params: { terminate: false } }]);
    expect(slow.actor.getSnapshot().output!.outcome).toBe('declined');
    const no = job();
    no.actor.send({ type: 'request.rejected', terminate: true });
    expect(no.calls).toEqual([{ name: 'answerUnavailable', params: { terminate: true } }]);
  });

  it('the worker closing declines a pending request at once', () => {
    const { actor, calls } = job();
    actor.send({ type: 'shutdown', reason: 'worker closing' });
    expect(calls).toEqual([{ name: 'answerUnavailable', params: { terminate: false } }]);
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'declined', reason: 'worker closing' });
  });

  it('no assignment within 7.5 s: the job fails, nothing is launched', () => {
    const { actor, names } = job();
    actor.send({ type: 'request.accepted' });
    vi.advanceTimersByTime(7500);
    expect(names()).not.toContain('launch');
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'failed', error: 'no assignment from the server in time' });
  });

  it('a process that stops answering pings is killed', () => {
    const { actor, calls, running } = job();
    running();
    vi.advanceTimersByTime(2000);
    actor.send({ type: 'process.pong', rssMb: 100 });
    vi.advanceTimersByTime(2999);
    expect(calls.some((c) => c.name === 'killProcess')).toBe(false);
    vi.advanceTimersByTime(1);
    expect(calls.find((c) => c.name === 'killProcess')!.params).toEqual({ why: 'job process unresponsive for 3000 ms' });
    actor.send({ type: 'process.exited', code: null, signal: 'SIGKILL' });
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'failed', error: 'job process unresponsive for 3000 ms' });
  });

  it('memory: warned once above jobMemoryWarnMb, killed above jobMemoryLimitMb', () => {
    const { actor, calls, running } = job();
    running();
    actor.send({ type: 'process.pong', rssMb: 310 });
    actor.send({ type: 'process.pong', rssMb: 320 });
    expect(calls.filter((c) => c.name === 'warnMemory')).toEqual([{ name: 'warnMemory', params: { rssMb: 310, limitMb: 300 } }]);
    actor.send({ type: 'process.pong', rssMb: 501 });
    expect(calls.at(-1)).toEqual({ name: 'killProcess', params: { why: 'job process used 501 MB, over the 500 MB limit' } });
  });

  it('server termination asks the job to shut down, and kills it after shutdownTimeout', () => {
    const { actor, calls, running } = job();
    running();
    actor.send({ type: 'terminate' });
    expect(calls.at(-1)).toEqual({ name: 'requestShutdown', params: { reason: 'terminated by the server' } });
    vi.advanceTimersByTime(10_000);
    expect(calls.at(-1)!.name).toBe('killProcess');
    vi.advanceTimersByTime(5_000);
    expect(actor.getSnapshot().output!.outcome).toBe('failed');
  });

  it('a crash of the process while running fails the job with the exit', () => {
    const { actor, running } = job();
    running();
    actor.send({ type: 'process.exited', code: 1, signal: null });
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'failed', error: 'job process exited with code 1' });
  });
});
