import type { Actor } from 'xstate';
import { floorIsFree, type activityMachine } from '../../machines/activity.ts';
import type { SpeechHandle } from './speechHandle.ts';

/** Waits for `p`, but at most `ms`; the timer is cleared either way (a pending timer would keep the session alive). */
export function within(ms: number, p: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  return Promise.race([p.then(() => undefined), limit]).finally(() => clearTimeout(timer));
}

/** Resolves when the user does not hold the floor, or the speech was interrupted or ended, or the activity stopped. */
export function whenFloorFree(activity: Actor<typeof activityMachine>, h: SpeechHandle): Promise<void> {
  if (floorIsFree(activity.getSnapshot().context)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const sub = activity.subscribe((s) => {
      if (floorIsFree(s.context) || s.status !== 'active') done();
    });
    const stop = h.actor.subscribe((s) => (s.context.interrupted || s.status === 'done') && done());
    function done() {
      sub.unsubscribe();
      stop.unsubscribe();
      resolve();
    }
  });
}
