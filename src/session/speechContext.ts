import { AsyncLocalStorage } from 'node:async_hooks';
import { scopedRunner } from '../scopedStorage.ts';

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

// Switched off whenever no user code runs in a scope (measured: Node 20's async hooks on every promise were ~10 % of a
// 10-room process's CPU before the rooms' own churn was cut).
const runInScope = scopedRunner(speechScope);

/**
 * Runs user code (a hook, a tool) in a speech scope. The scope reaches everything the code awaits while it runs; a
 * callback it leaves behind to fire after it returned (a timer) sees no scope and acts on the current activity.
 */
export function inSpeechScope<T>(scope: SpeechScope, fn: () => T): T {
  return runInScope(scope, fn);
}
