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
