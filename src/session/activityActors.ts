import { createActor, type Actor, type AnyActorLogic } from 'xstate';
import { activityMachine } from '../../machines/activity.ts';
import { userTurnMachine, type EndOfTurnInfo, type UserTurnExceededInfo } from '../../machines/userTurn.ts';
import type { Agent } from '../agent.ts';
import type { FunctionTool } from '../llm/tools.ts';
import { toolEntries } from '../llm/toolset.ts';
import type { STT } from '../providers/types.ts';
import { aecWarmupInput, aecWarmupOpened } from './aecWarmup.ts';
import { wiringTable } from './wiring.ts';
import type { SessionHost } from './host.ts';
import type { ResolvedSessionOptions } from './options.ts';
import type { SpeechHandle } from './speechHandle.ts';

/** What the activity's machines are wired to. */
export interface ActivityWiring {
  readonly agent: Agent;
  readonly session: SessionHost;
  readonly options: ResolvedSessionOptions;
  readonly handles: Map<string, SpeechHandle>;
  /** Speeches the scheduler refused (draining or handing off). */
  readonly rejected: Set<string>;
  readonly stt: STT | null;
  pauseOutput(): void;
  resumeOutput(): void;
  pauseEnabled(): boolean;
  /** Created after the actors; the actions reach it only when they run. */
  readonly turns: { accept(info: EndOfTurnInfo): void; drop(): void; hold(): void };
  userTurnExceeded(info: UserTurnExceededInfo): void;
  /** The tools offered (flattened), for the machines' offer rules. */
  readonly tools: readonly FunctionTool[];
  /** The end-of-turn model's prediction actor (src/turn). */
  readonly eot: { actor: AnyActorLogic };
}

/** Each activity actor's wiring (the machines are provided once per process, see wiring.ts: ~40 KB per activity). */
const wirings = wiringTable<ActivityWiring>('activity machine');

const wiredActivityMachine = activityMachine.provide({
  actions: {
    authorizeSpeech: ({ self }, { id }) => wirings.of(self).handles.get(id)?.actor.send({ type: 'AUTHORIZE' }),
    rejectSpeech: ({ self }, { id }) => void wirings.of(self).rejected.add(id),
    pauseOutput: ({ self }) => wirings.of(self).pauseOutput(),
    resumeOutput: ({ self }) => wirings.of(self).resumeOutput(),
    interruptSpeech: ({ self }, { id }) => {
      const h = wirings.of(self).handles.get(id);
      if (h && !h.interrupted && h.allowInterruptions) h.interrupt();
    },
    reportFalseInterruption: ({ self }, { resumed }) => wirings.of(self).session._emit({ type: 'agent_false_interruption', resumed }),
    acceptTurn: ({ self }, { info }) => info && wirings.of(self).turns.accept(info),
    dropTurn: ({ self }) => wirings.of(self).turns.drop(),
    holdTurn: ({ self }) => wirings.of(self).turns.hold(),
    aecWarmupStarted: ({ self }) => aecWarmupOpened(wirings.of(self).session, Date.now()),
  },
});

/**
 * The activity's two machines (the activity under the session's root, the user turn under the activity), given
 * this agent's options and provided with the runtime's effects. The machines decide; these callbacks act.
 */
export function createActivityActors(act: ActivityWiring): { actor: Actor<typeof activityMachine>; userTurn: Actor<typeof userTurnMachine> } {
  const { session, options: o } = act;
  const now = Date.now();
  const actor = createActor(
    wiredActivityMachine,
    {
      parent: session._rootActor,
      input: {
        minConsecutiveSpeechDelay: act.agent.minConsecutiveSpeechDelay ?? o.minConsecutiveSpeechDelay,
        interruption: {
          mode: o.turnDetection,
          minDuration: o.minInterruptionDuration,
          minWords: o.minInterruptionWords,
          hasStt: act.stt !== null,
          speaking: o.speakingInterruption,
          thinking: o.thinkingInterruption,
        },
        backchannel: o.backchannelPhrases,
        ...aecWarmupInput(session, o.aecWarmupDuration, now),
        pauseEnabled: act.pauseEnabled(),
        falseInterruptionTimeout: o.falseInterruptionTimeout ?? 0,
        tools: toolEntries(act.tools),
      },
    },
  );
  wirings.set(actor, act);
  const detector = o.turnDetector;
  // The prediction is this activity's model call, so a configured detector gets a provided copy of the machine;
  // without one the machine never asks (its `noPrediction` guard) and the shared definition serves.
  const userTurn = createActor(
    detector ? userTurnMachine.provide({ actors: { predictEndOfTurn: act.eot.actor as never } }) : userTurnMachine,
    {
      parent: actor,
      input: {
        mode: o.turnDetection,
        hasStt: act.stt !== null,
        minDelay: o.minEndpointingDelay,
        maxDelay: o.maxEndpointingDelay,
        detector,
        now,
        endpointing: { mode: o.endpointingMode, alpha: o.endpointingAlpha },
        userTurnLimit: o.userTurnLimit,
      },
    },
  );
  userTurn.on('userTurnExceeded', ({ info }) => act.userTurnExceeded(info));
  return { actor, userTurn };
}
