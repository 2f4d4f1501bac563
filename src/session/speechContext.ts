import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Where user code runs: inside a hook (onEnter, onExit, onUserTurnCompleted) or a tool of a given activity and
 * speech. Lets `session.say()` from a hook reach the activity that runs the hook, and lets a tool's
 * `generateReply()` default to `toolChoice: 'none'`.
 */
export interface SpeechScope {
  activity: unknown;
  /** The speech whose tool runs here (compared by identity; typed loosely so the two files import no cycle). */
  handle: object | null;
  inTool: boolean;
  /** The hook running here ('onEnter', 'onExit', …); a tool of an onEnter reply runs in 'onEnter' too. */
  hook?: string;
}

export const speechScope = new AsyncLocalStorage<SpeechScope>();

/** Scoped calls still running (their promises not settled). */
let running = 0;
const release = () => {
  // No user code runs in a scope any more: switch the storage off, so that Node 20 stops running its async hooks on
  // every promise of the process (measured: ~10 % of a 10-room process's CPU before the rooms' own churn was cut).
  if (--running === 0) speechScope.disable();
};

/**
 * Runs user code (a hook, a tool) in a speech scope. The scope reaches everything the code awaits while it runs; a
 * callback it leaves behind to fire after it returned (a timer) sees no scope and acts on the current activity.
 */
export function inSpeechScope<T>(scope: SpeechScope, fn: () => T): T {
  running++;
  let result: T;
  try {
    result = speechScope.run(scope, fn);
  } catch (e) {
    release();
    throw e;
  }
  if (result && typeof (result as { then?: unknown }).then === 'function') (result as unknown as PromiseLike<unknown>).then(release, release);
  else release();
  return result;
}
