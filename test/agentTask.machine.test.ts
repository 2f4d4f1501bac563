/** The session machine's task stack on its own: the runtime's actors are scripted promises. */
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { activityMachine } from '../machines/activity.ts';
import { sessionMachine } from '../machines/session.ts';

/** A promise actor that records its input and waits to be released by the test. */
function gate<I>(log: string[], name: string) {
  const pending: Array<() => void> = [];
  const failing: Array<(e: Error) => void> = [];
  return {
    logic: fromPromise<void, I>(({ input }) => {
      log.push(`${name} ${JSON.stringify(input)}`);
      return new Promise<void>((resolve, reject) => {
        pending.push(resolve);
        failing.push(reject);
      });
    }),
    release: () => pending.shift()?.(),
    fail: (e: Error) => failing.shift()?.(e),
  };
}

async function running() {
  const log: string[] = [];
  const start = gate<{ agent: string }>(log, 'startTask');
  const end = gate<{ agent: string; cancelled: boolean }>(log, 'endTask');
  const handoff = gate<{ agent: string }>(log, 'handoff');
  const m = sessionMachine.provide({
    actors: { startTask: start.logic, endTask: end.logic, handoff: handoff.logic },
    actions: {
      settleTask: (_, { agent }) => void log.push(`settle ${agent}`),
      refuseHandoff: (_, { agent }) => void log.push(`refuse ${agent}`),
    },
  });
  const actor = createActor(m, { input: { userAwayTimeout: null } }).start();
  actor.send({ type: 'START' });
  await waitFor(actor, (s) => s.matches('running'));
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const agentState = () => (actor.getSnapshot().value as { running: { agent: string } }).running.agent;
  const stack = () => actor.getSnapshot().context.taskStack.map((t) => `${t.agent}:${t.status}`);
  return { actor, log, start, end, handoff, tick, agentState, stack };
}

describe('session machine: tasks', () => {
  it('TASK_STARTED → startingTask → inTask → TASK_COMPLETED → endingTask → settle → active', async () => {
    const w = await running();
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'collect' });
    expect(w.agentState()).toBe('startingTask');
    expect(w.stack()).toEqual(['t1:starting']);
    w.start.release();
    await w.tick();
    expect(w.agentState()).toBe('inTask');
    expect(w.stack()).toEqual(['t1:running']);
    w.actor.send({ type: 'TASK_COMPLETED', agent: 't1' });
    expect(w.agentState()).toBe('endingTask');
    expect(w.log).toEqual(['startTask {"agent":"t1"}', 'endTask {"agent":"t1","cancelled":false}']);
    w.end.release();
    await w.tick();
    // The await settles as the task leaves the stack, never before the caller resumed.
    expect(w.log.at(-1)).toBe('settle t1');
    expect(w.agentState()).toBe('active');
    expect(w.stack()).toEqual([]);
  });

  it('nested tasks end innermost first; an outer task finishing first cancels the inner one', async () => {
    const w = await running();
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'outer' });
    w.start.release();
    await w.tick();
    w.actor.send({ type: 'TASK_STARTED', agent: 't2', id: 'inner' });
    w.start.release();
    await w.tick();
    expect(w.stack()).toEqual(['t1:running', 't2:running']);
    w.actor.send({ type: 'TASK_FAILED', agent: 't1', error: { name: 'Error', message: 'gave up' } });
    expect(w.agentState()).toBe('endingTask');
    expect(w.log.at(-1)).toBe('endTask {"agent":"t2","cancelled":true}');
    w.end.release();
    await w.tick();
    expect(w.log.slice(-2)).toEqual(['settle t2', 'endTask {"agent":"t1","cancelled":false}']);
    expect(w.actor.getSnapshot().context.taskStack[0]!.error).toEqual({ name: 'Error', message: 'gave up' });
    w.end.release();
    await w.tick();
    expect(w.log.at(-1)).toBe('settle t1');
    expect(w.agentState()).toBe('active');
  });

  it('a task asked for during a handoff or while another starts waits its turn', async () => {
    const w = await running();
    w.actor.send({ type: 'UPDATE_AGENT', agent: 'a1' });
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'x' });
    expect(w.agentState()).toBe('handingOff');
    expect(w.actor.getSnapshot().context.taskRequests.map((t) => t.agent)).toEqual(['t1']);
    w.handoff.release();
    await w.tick();
    expect(w.agentState()).toBe('startingTask');
    w.actor.send({ type: 'TASK_STARTED', agent: 't2', id: 'y' });
    w.start.release();
    await w.tick();
    expect(w.agentState()).toBe('startingTask');
    expect(w.stack()).toEqual(['t1:running', 't2:starting']);
  });

  it('a task that finishes before it took over ends at once (its start is abandoned)', async () => {
    const w = await running();
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'x' });
    w.actor.send({ type: 'TASK_FAILED', agent: 't1', error: { name: 'AgentTaskCancelledError', message: 'interrupted' } });
    expect(w.agentState()).toBe('endingTask');
    expect(w.log.at(-1)).toBe('endTask {"agent":"t1","cancelled":false}');
    w.end.release();
    await w.tick();
    expect(w.agentState()).toBe('active');
  });

  it('a task that fails to start ends at once (its await rejects), the caller resumes', async () => {
    const w = await running();
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'x' });
    w.start.fail(new Error('no caller'));
    await w.tick();
    expect(w.agentState()).toBe('endingTask');
    expect(w.actor.getSnapshot().context.taskStack[0]).toMatchObject({ status: 'failed', error: { message: 'no caller' } });
    w.end.release();
    await w.tick();
    expect(w.agentState()).toBe('active');
  });

  it('a handoff while a task runs is refused; in `active` it is taken', async () => {
    const w = await running();
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'x' });
    w.actor.send({ type: 'UPDATE_AGENT', agent: 'a1' });
    w.start.release();
    await w.tick();
    w.actor.send({ type: 'UPDATE_AGENT', agent: 'a2' });
    expect(w.log.filter((l) => l.startsWith('refuse'))).toEqual(['refuse a1', 'refuse a2']);
    expect(w.agentState()).toBe('inTask');
    w.actor.send({ type: 'TASK_COMPLETED', agent: 't1' });
    w.end.release();
    await w.tick();
    w.actor.send({ type: 'UPDATE_AGENT', agent: 'a3' });
    expect(w.agentState()).toBe('handingOff');
  });

  it('close during a task reaches closed and clears the stack; the context stays JSON', async () => {
    const w = await running();
    w.actor.send({ type: 'TASK_STARTED', agent: 't1', id: 'x' });
    w.start.release();
    await w.tick();
    const ctx = w.actor.getSnapshot().context;
    expect(JSON.parse(JSON.stringify(ctx))).toEqual(ctx);
    const restored = createActor(sessionMachine, { input: { userAwayTimeout: null }, snapshot: JSON.parse(JSON.stringify(w.actor.getPersistedSnapshot())) });
    expect(restored.getSnapshot().context.taskStack).toEqual(ctx.taskStack);
    w.actor.send({ type: 'CLOSE', reason: 'user_initiated' });
    await waitFor(w.actor, (s) => s.matches('closed'));
    expect(w.actor.getSnapshot().context.taskStack).toEqual([]);
  });
});

describe('activity machine: suspension for a task', () => {
  const input = { minConsecutiveSpeechDelay: 0, interruption: { mode: 'vad' as const, minDuration: 500, minWords: 0, hasStt: true }, pauseEnabled: false, falseInterruptionTimeout: 0 };
  it('SUSPEND holds the queue and turns; quiet once the playing speech released; RESUME restores both', () => {
    const authorized: string[] = [];
    const a = createActor(activityMachine.provide({ actions: { authorizeSpeech: (_, { id }) => void authorized.push(id) } }), { input }).start();
    a.send({ type: 'STARTED' });
    a.send({ type: 'SPEECH_ENQUEUED', id: 's1', priority: 5, kind: 'reply' });
    a.send({ type: 'SUSPEND' });
    a.send({ type: 'SPEECH_ENQUEUED', id: 's2', priority: 5, kind: 'say' });
    expect(a.getSnapshot().context.acceptingTurns).toBe(false);
    expect(a.getSnapshot().matches({ suspension: 'running' })).toBe(true); // s1 still holds the output
    a.send({ type: 'STEP_DONE', id: 's1' });
    expect(a.getSnapshot().matches({ suspension: 'quiet' })).toBe(true);
    expect(authorized).toEqual(['s1']); // s2 waits
    a.send({ type: 'RESUME' });
    expect(authorized).toEqual(['s1', 's2']);
    expect(a.getSnapshot().context.acceptingTurns).toBe(true);
  });

  it('turns blocked during a suspension (a drain began) stay blocked after RESUME', () => {
    const a = createActor(activityMachine, { input }).start();
    a.send({ type: 'STARTED' });
    a.send({ type: 'SUSPEND' });
    a.send({ type: 'BLOCK_TURNS' });
    a.send({ type: 'RESUME' });
    expect(a.getSnapshot().context.acceptingTurns).toBe(false);
  });
});
