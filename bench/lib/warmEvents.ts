/**
 * How much statechart work a warm turn of the core bench does: the events the session's actor system processes
 * (and the microsteps they cause, eventless `always` transitions included) between end of turn (final transcript)
 * and the first frame at the output, counted with the system's inspection API. Inspection costs time itself, so
 * these turns are counted apart from the timed ones.
 *   node --import tsx bench/lib/warmEvents.ts [turns=200] [warmup=50]    (a per-event breakdown as JSON)
 */
import type { InspectionEvent } from 'xstate';
import type { AgentSession } from '../../src/index.ts';
import { InstantLLM } from './instant.ts';
import { measureTurns } from './turns.ts';

export interface TurnEventCounts {
  turns: number;
  /** Median events per turn (every actor of the session's system: session, activity, user turn, speeches…). */
  eventsPerTurn: number;
  /** Median microsteps per turn (a transition taken: by an event or eventless). */
  microstepsPerTurn: number;
  /** Events per turn by `actor:EVENT` (means over the counted turns), most frequent first. */
  byEvent: Array<{ event: string; perTurn: number }>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** The actor's machine id (`activity`, `userTurn`, `speech`…), or its system id for other logic. */
const actorName = (ref: { id?: string; logic?: { id?: string } }): string => ref.logic?.id ?? ref.id ?? '?';

export async function countTurnEvents(turns = 200, warmup = 50): Promise<TurnEventCounts> {
  let counting = false;
  let events = 0;
  let microsteps = 0;
  const perTurnEvents: number[] = [];
  const perTurnMicrosteps: number[] = [];
  const byEvent = new Map<string, number>();
  let n = 0;
  let inspected = false;
  await measureTurns(new InstantLLM(), warmup + turns, undefined, {
    beforeTurn: () => {
      counting = n >= warmup;
      events = 0;
      microsteps = 0;
    },
    afterFirstFrame: () => {
      if (counting) {
        perTurnEvents.push(events);
        perTurnMicrosteps.push(microsteps);
      }
      counting = false;
      n++;
    },
    afterTurn: (session: AgentSession) => {
      if (inspected) return;
      inspected = true;
      session._rootActor.system.inspect((e: InspectionEvent) => {
        if (!counting) return;
        if (e.type === '@xstate.event') {
          events++;
          const key = `${actorName(e.actorRef as never)}:${e.event.type}`;
          byEvent.set(key, (byEvent.get(key) ?? 0) + 1);
        } else if (e.type === '@xstate.microstep') microsteps++;
      });
    },
  });
  const counted = perTurnEvents.length || 1;
  return {
    turns: perTurnEvents.length,
    eventsPerTurn: median(perTurnEvents),
    microstepsPerTurn: median(perTurnMicrosteps),
    byEvent: [...byEvent.entries()].sort((a, b) => b[1] - a[1]).map(([event, k]) => ({ event, perTurn: Math.round((k / counted) * 100) / 100 })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [turns = 200, warmup = 50] = process.argv.slice(2).map(Number);
  console.log(JSON.stringify(await countTurnEvents(turns, warmup), null, 1));
  process.exit(0);
}
