import { Agent, type AgentOptions } from '../agent.ts';
import type { ActivityHost } from '../session/host.ts';
import { speechScope } from '../session/speechContext.ts';

import { AgentTaskCancelledError } from '../session/taskRuns.ts';

export { AgentTaskCancelledError, AgentTaskClosedError } from '../session/taskRuns.ts';

export interface AgentTaskOptions extends AgentOptions {
  /**
   * Function calls and outputs the task made go back to its caller's context too. By default only the task's
   * messages do (the caller's model did not make those calls).
   */
  preserveFunctionCallHistory?: boolean;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * An agent that runs for a while inside another and comes back with a result. `await new MyTask()` inside a tool
 * or a hook (onEnter) of a running agent: the caller's activity pauses (its playing speech ends first), the task's
 * activity takes the conversation (user turns go to it) until the task calls `this.complete(result)`; then the
 * task's activity stops, its messages merge into the caller's context, the caller resumes, and the await returns
 * `result`. `this.complete(new Error(...))` (or any failure to run) rejects the await instead.
 *
 * Unless `chatCtx` is given, the task starts with a copy of its caller's context (without the caller's
 * instructions). Tasks nest: a task's tool may await another task. A task cannot hand the conversation to another
 * agent (the handoff is refused with an error event); the session closing rejects the await
 * (`AgentTaskClosedError`). An AgentTask runs once.
 */
export class AgentTask<T = unknown> extends Agent implements PromiseLike<T> {
  readonly _ownChatCtx: boolean;
  readonly _preserveFunctionCalls: boolean;
  private outcome: Outcome<T> | null = null;
  private promise: Promise<T> | null = null;
  private settleWith: ((error: Error | null) => void) | null = null;
  private key: string | null = null;
  private host: ActivityHost['session'] | null = null;

  constructor(opts: AgentTaskOptions) {
    super(opts);
    this._ownChatCtx = opts.chatCtx !== undefined;
    this._preserveFunctionCalls = opts.preserveFunctionCallHistory ?? false;
  }

  /** Whether `complete()` was called. */
  get done(): boolean {
    return this.outcome !== null;
  }

  /** Ends the task: the await returns `result`, or rejects when it is an Error. Only the first call counts. */
  complete(result: T | Error): void {
    if (this.outcome) {
      this.host?._reportError('session', `${this.id}.complete`, new Error(`AgentTask ${this.id} was already completed`), true);
      return;
    }
    this.outcome = result instanceof Error ? { ok: false, error: result } : { ok: true, value: result };
    if (this.key && this.host) this.host._taskFinished(this.key, this.outcome.ok ? null : this.outcome.error);
  }

  // Awaiting the task starts it (once); later awaits share the outcome.
  then<R1 = T, R2 = never>(onDone?: ((v: T) => R1 | PromiseLike<R1>) | null, onFail?: ((e: any) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.run().then(onDone, onFail);
  }

  catch<R = never>(onFail?: ((e: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.run().catch(onFail);
  }

  finally(onSettled?: (() => void) | null): Promise<T> {
    return this.run().finally(onSettled);
  }

  private run(): Promise<T> {
    this.promise ??= new Promise<T>((resolve, reject) => {
      this.settleWith = (error) => {
        const o = this.outcome;
        if (o?.ok) resolve(o.value);
        else if (o) reject(o.error);
        else if (error) reject(error);
        else reject(new Error(`AgentTask ${this.id} ended without completing`));
      };
      const scope = speechScope.getStore();
      const caller = scope?.activity as ActivityHost | undefined;
      if (!caller || caller.closed) {
        reject(new Error(`AgentTask ${this.id} must be awaited inside a tool or a hook (onEnter) of a running agent`));
        return;
      }
      try {
        this.host = caller.session;
        this.key = caller.session._startTask(this);
      } catch (e) {
        reject(e);
        return;
      }
      // Completed before its await (e.g. in the constructor): it ends at once.
      if (this.outcome) caller.session._taskFinished(this.key, this.outcome.ok ? null : this.outcome.error);
      // Awaited by a tool whose speech is interrupted (the tool's output is "cancelled"): nobody waits any more.
      const signal = (scope?.handle as { abortSignal?: AbortSignal } | null)?.abortSignal;
      const cancel = () => {
        if (!this.outcome) this.complete(new AgentTaskCancelledError(`AgentTask ${this.id} was cancelled: the speech that awaited it was interrupted`));
      };
      if (signal?.aborted) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
    return this.promise;
  }

  /** @internal the session ended the task (after its caller resumed) */
  _settle(error: Error | null): void {
    const settle = this.settleWith;
    this.settleWith = null;
    settle?.(error);
  }
}
