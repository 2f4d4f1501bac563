import { AsyncLocalStorage } from 'node:async_hooks';
import type { SpeechHandle } from './speechHandle.ts';

/**
 * Where user code runs: inside a hook (onEnter, onExit, onUserTurnCompleted) or a tool of a given activity and
 * speech. Lets `session.say()` from a hook reach the activity that runs the hook, and lets a tool's
 * `generateReply()` default to `toolChoice: 'none'`.
 */
export interface SpeechScope {
  activity: unknown;
  handle: SpeechHandle | null;
  inTool: boolean;
}

export const speechScope = new AsyncLocalStorage<SpeechScope>();
