import type { AnyActorRef, InspectionEvent } from 'xstate';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

describe('inspection', () => {
  it('every actor of a session reports to the inspect observer: session, activity, user turn, speeches, output channel', async () => {
    const seen: InspectionEvent[] = [];
    const h = await startHarness({
      utterances: [{ start: 0, end: 800, transcript: 'Hello' }],
      llm: [{ input: 'Hello', content: 'Hi!' }],
      session: { inspect: (e) => seen.push(e) },
    });
    await h.at(3000);
    const logicIds = new Set(
      seen.filter((e) => e.type === '@xstate.actor').map((e) => {
        const ref = e.actorRef as AnyActorRef & { logic: { id?: string } };
        return ref.logic.id ?? String(ref.src);
      }),
    );
    for (const id of ['session', 'activity', 'userTurn', 'speech', 'audioOutput']) expect(logicIds).toContain(id);
    // Speech actors are children of the activity: one tree per session.
    type Ref = AnyActorRef & { logic?: { id?: string }; _parent?: Ref };
    const speechActor = seen.find((e) => e.type === '@xstate.actor' && (e.actorRef as Ref).logic?.id === 'speech')!;
    expect((speechActor.actorRef as Ref)._parent?.logic?.id).toBe('activity');
    const transitions = seen.filter((e) => e.type === '@xstate.snapshot').length;
    expect(transitions).toBeGreaterThan(10);
    await h.session.close();
  });
});
