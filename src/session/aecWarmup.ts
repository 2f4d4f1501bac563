import type { SessionHost } from './host.ts';

/**
 * The AEC warm-up window belongs to the session (its first audible speech), while each agent's activity machine
 * holds the state. This remembers, per session, when the window opened, so an activity created by a handoff during
 * the window goes on with what is left of it, and one created later has none.
 */
const openedAt = new WeakMap<SessionHost, number>();

export function aecWarmupInput(session: SessionHost, durationMs: number, now: number): { aecWarmup: number; aecWarmupStarted: boolean } {
  const at = openedAt.get(session);
  return at === undefined ? { aecWarmup: durationMs, aecWarmupStarted: false } : { aecWarmup: Math.max(0, at + durationMs - now), aecWarmupStarted: true };
}

export function aecWarmupOpened(session: SessionHost, now: number): void {
  if (!openedAt.has(session)) openedAt.set(session, now);
}
