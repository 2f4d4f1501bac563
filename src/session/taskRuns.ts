import { waitFor } from 'xstate';
import type { Agent } from '../agent.ts';
import type { ChatContext, ChatItem } from '../llm/chatContext.ts';
import { AgentActivity } from './agentActivity.ts';
import type { ActivityStack, Carried } from './activityStack.ts';
import type { RunnableTask, SessionHost } from './host.ts';

/** The await of a task rejects with this when the session closes (or the task could not run at all). */
export class AgentTaskClosedError extends Error {
  override name = 'AgentTaskClosedError';
}

/** The await of a task rejects with this when its caller's own task ended before it (the inner one is cut). */
export class AgentTaskCancelledError extends Error {
  override name = 'AgentTaskCancelledError';
}

interface Run {
  task: RunnableTask;
  activity: AgentActivity | null;
  caller: AgentActivity | null;
  error: Error | null;
  /** What the user was saying to the task when it stopped, taken before its activity closed. */
  carried?: Carried;
}

/**
 * The runtime half of AgentTasks: the session machine holds the stack as plain data (keys); the objects, and the
 * work of pausing a caller, starting the task's activity, and ending it again, are here.
 */
export class TaskRuns {
  private readonly runs = new Map<string, Run>();
  private count = 0;

  constructor(
    private readonly session: SessionHost,
    private readonly stack: ActivityStack,
  ) {}

  add(task: RunnableTask): string {
    const key = `task_${++this.count}`;
    this.runs.set(key, { task, activity: null, caller: null, error: null });
    return key;
  }

  /** Pauses the caller (its playing step finishes first) and starts the task's activity on a copy of its context. */
  async start(key: string, signal: AbortSignal): Promise<void> {
    const run = this.get(key);
    const caller = this.stack.current;
    if (!caller) throw new AgentTaskClosedError(`AgentTask ${run.task.id} has no running agent to take over from`);
    caller.actor.send({ type: 'SUSPEND' });
    this.stack.paused.push(caller);
    run.caller = caller;
    // One speech at a time: the caller's speech that is playing (often the step whose tool awaits) ends first.
    await waitFor(caller.actor, (s) => s.matches({ suspension: 'quiet' }), { signal });
    signal.throwIfAborted();
    const task = run.task;
    if (!task._ownChatCtx) task.chatCtx.items.splice(0, task.chatCtx.items.length, ...caller.agent.chatCtx.items.filter((i) => i.id !== 'instructions'));
    const act = new AgentActivity(task, this.session);
    run.activity = act;
    this.stack.next = act;
    this.stack.recordHandoff(act, caller.agent.id);
    this.stack.current = act;
    this.stack.next = null;
    this.stack.agent = task;
    await act.start();
    // Finished (or the session closed) while starting: the conversation stays with the caller.
    signal.throwIfAborted();
    this.stack.moveConversation(caller, act);
  }

  /** Stops the top task's activity, merges its context into the caller's, and resumes the caller. */
  async end(key: string, cancelled: boolean): Promise<void> {
    const run = this.get(key);
    if (cancelled) run.error ??= new AgentTaskCancelledError(`AgentTask ${run.task.id} was cancelled: the task that awaited it ended`);
    const { activity: act, caller } = run;
    try {
      if (act) {
        await act.drain();
        run.carried = act.turns.pendingTranscript();
        await act.close();
      }
    } finally {
      if (caller) this.resume(caller, act, run);
    }
  }

  /** The task's await settles with its outcome (or the runtime's error); called once the machine left the task. */
  settle(key: string): void {
    const run = this.runs.get(key);
    if (!run) return;
    this.runs.delete(key);
    run.task._settle(run.error);
  }

  /** A failure to start: the caller resumes and the await rejects with it. */
  failed(key: string, e: unknown): void {
    const run = this.runs.get(key);
    if (run) run.error ??= e instanceof Error ? e : new Error(String(e));
  }

  /** The session closes: the innermost task's await rejects, its activity stops, its caller is the top again. */
  async closeInnermost(): Promise<void> {
    const caller = this.stack.paused.at(-1)!;
    const entry = [...this.runs.entries()].find(([, r]) => r.caller === caller);
    if (!entry) {
      this.stack.paused.pop();
      this.stack.current = caller;
      return;
    }
    const [key, run] = entry;
    run.error ??= new AgentTaskClosedError(`the session closed while AgentTask ${run.task.id} ran`);
    const act = run.activity;
    try {
      if (act) {
        await act.interrupt({ force: true }).catch(() => undefined);
        await act.close();
      }
    } finally {
      this.resume(caller, act, run);
      this.settle(key);
    }
  }

  /** The session closed: tasks still waiting for their turn to start never will. */
  rejectWaiting(): void {
    for (const [key, run] of [...this.runs.entries()]) {
      run.error ??= new AgentTaskClosedError(`the session closed before AgentTask ${run.task.id} could start`);
      this.settle(key);
    }
  }

  /** Tasks whose await is still open (not yet settled), for close. */
  get size(): number {
    return this.runs.size;
  }

  private resume(caller: AgentActivity, act: AgentActivity | null, run: Run): void {
    const i = this.stack.paused.lastIndexOf(caller);
    if (i !== -1) this.stack.paused.splice(i, 1);
    if (act) mergeTaskContext(run.task.chatCtx, caller.agent.chatCtx, run.task._preserveFunctionCalls);
    this.stack.current = caller;
    this.stack.agent = caller.agent;
    if (act && !caller.closed) this.stack.recordHandoff(caller, run.task.id);
    caller.actor.send({ type: 'RESUME' });
    if (act) this.stack.moveConversation(act, caller, run.carried);
    else this.stack.syncStates(caller);
    // A turn the caller fenced while it was pausing is its own to answer now.
    const own = caller.turns.fencedTurn;
    caller.turns.fencedTurn = null;
    if (own && !caller.closed) caller.turns.takeOver(own);
  }

  private get(key: string): Run {
    const run = this.runs.get(key);
    if (!run) throw new Error(`no AgentTask runs under ${key}`);
    return run;
  }
}

/**
 * What a task said goes back to its caller: the task's items the caller does not have yet, in time order, except
 * the task's instructions, handoff and configuration items, and (unless asked for) its function calls and outputs.
 */
export function mergeTaskContext(from: ChatContext, into: ChatContext, functionCalls: boolean): void {
  const have = new Set(into.items.map((i) => i.id));
  const keep = (i: ChatItem) =>
    !have.has(i.id) &&
    i.id !== 'instructions' &&
    i.type !== 'agent_handoff' &&
    i.type !== 'agent_config_update' &&
    (functionCalls || (i.type !== 'function_call' && i.type !== 'function_call_output'));
  for (const item of from.items.filter(keep)) into.insert(item);
}
