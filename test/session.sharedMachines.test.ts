/**
 * Sessions share their machine definitions (one provided copy per process, not one per session: a copy rebuilds
 * the state tree, ~110 KB of heap per listening session in all), and each shared machine still acts on its own
 * session: a speech authorised, a turn accepted or an output cleared in one session never touches another.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

type Ref = AnyActorRef & { logic: { id?: string } };

/** The machine (logic) of each actor id the session's inspector saw. */
function logicsSeen(seen: InspectionEvent[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const e of seen) if (e.type === '@xstate.actor') out.set((e.actorRef as Ref).logic.id ?? '?', (e.actorRef as Ref).logic);
  return out;
}

describe('shared machine definitions', () => {
  it('two sessions run on the same session, activity, user-turn and output machines, each acting on its own session', async () => {
    const seenA: InspectionEvent[] = [];
    const seenB: InspectionEvent[] = [];
    const a = await startHarness({
      utterances: [{ start: 0, end: 800, transcript: 'Hello from A' }],
      llm: [{ input: 'Hello from A', content: 'A long answer for A that keeps going for a while.' }],
      session: { inspect: (e) => seenA.push(e) },
    });
    const b = await startHarness({
      utterances: [{ start: 0, end: 800, transcript: 'Hello from B' }],
      llm: [{ input: 'Hello from B', content: 'An answer for B.' }],
      session: { inspect: (e) => seenB.push(e) },
    });
    const clearA = vi.spyOn(a.output, 'clearBuffer');
    const clearB = vi.spyOn(b.output, 'clearBuffer');
    await a.at(1500);
    // A is speaking; cutting it off must leave B's reply alone.
    expect(a.session.agentState).toBe('speaking');
    a.session.interrupt();
    await a.at(20_000);

    const la = logicsSeen(seenA);
    const lb = logicsSeen(seenB);
    for (const id of ['session', 'activity', 'userTurn', 'audioOutput']) {
      expect(la.get(id), id).toBeDefined();
      expect(la.get(id), id).toBe(lb.get(id));
    }
    expect(historyText(a.session).join('\n')).toContain('Hello from A');
    expect(historyText(a.session).join('\n')).not.toContain('B');
    expect(a.session.history.items.some((i) => i.type === 'message' && i.role === 'assistant' && i.interrupted)).toBe(true);
    expect(historyText(b.session).join('\n')).toContain('An answer for B.');
    expect(b.session.history.items.some((i) => i.type === 'message' && i.interrupted)).toBe(false);
    // The output channel's clearDevice action reached A's device only.
    expect(clearA).toHaveBeenCalled();
    expect(clearB).not.toHaveBeenCalled();
    await a.session.close();
    await b.session.close();
  });
});
