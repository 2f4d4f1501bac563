/**
 * Run with `node --allow-natives-syntax --import tsx`: drives the per-turn machines through a turn's events and
 * prints, for each, its context's field count and whether V8 still keeps it as a fast (non-dictionary) object.
 * A control object built the way XState's `assign` builds contexts, with too many fields, shows the probe sees
 * the difference. Used by test/machines.contextShape.test.ts.
 */
import { createActor, type AnyActorRef } from 'xstate';
import { activityMachine } from '../../machines/activity.ts';
import { DEFAULT_BACKCHANNEL_PHRASES } from '../../machines/backchannel.ts';
import { sessionMachine } from '../../machines/session.ts';
import { speechMachine } from '../../machines/speech.ts';
import { userTurnMachine } from '../../machines/userTurn.ts';

const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

const activity = createActor(activityMachine, {
  input: {
    minConsecutiveSpeechDelay: 0,
    interruption: { mode: 'vad', minDuration: 500, minWords: 1, hasStt: true, speaking: {}, thinking: {} },
    backchannel: DEFAULT_BACKCHANNEL_PHRASES,
    aecWarmup: 3000,
    pauseEnabled: true,
    falseInterruptionTimeout: 2000,
    tools: [],
  },
}).start();
activity.send({ type: 'STARTED' });
activity.send({ type: 'USER_SPEECH_START', current: null });
activity.send({ type: 'USER_SPEECH_END' });
activity.send({ type: 'SPEECH_ENQUEUED', id: 's', priority: 1, kind: 'reply' });
activity.send({ type: 'PLAYBACK_STARTED', id: 's' });
activity.send({ type: 'SPEECH_DONE', id: 's' });

const userTurn = createActor(userTurnMachine, {
  input: { mode: 'vad', hasStt: true, minDelay: 500, maxDelay: 3000, detector: null, now: 0, endpointing: { mode: 'dynamic', alpha: 0.9 }, userTurnLimit: { maxWords: 50 } },
}).start();
userTurn.send({ type: 'VAD_SPEECH_START', at: 100, now: 100 });
userTurn.send({ type: 'INTERIM_TRANSCRIPT', text: 'hello', at: 200 });
userTurn.send({ type: 'VAD_SPEECH_END', at: 300, now: 300 });
userTurn.send({ type: 'FINAL_TRANSCRIPT', text: 'hello there', at: 400, now: 400 });
userTurn.send({ type: 'COMMIT_TURN', at: 500 });
userTurn.send({ type: 'TURN_ACCEPTED', at: 500 });

const session = createActor(sessionMachine, { input: { userAwayTimeout: 15000 } });
session.send({ type: 'STATES_CHANGED', agentState: 'listening', userState: 'listening', toolsRunning: 0 });
session.send({ type: 'MODEL_RECOVERED', kinds: ['stt'] });

const speech = createActor(speechMachine, { input: { id: 's', priority: 1, allowInterruptions: true } }).start();
speech.send({ type: 'SCHEDULE' });
speech.send({ type: 'AUTHORIZE' });
speech.send({ type: 'PLAYBACK_STARTED' });

// What XState's assign does to a context: Object.assign({}, context, update).
const tooWide: Record<string, unknown> = {};
for (let i = 0; i < 24; i++) tooWide[`f${i}`] = i % 2 ? null : i;
let control = tooWide;
for (let i = 0; i < 3; i++) control = Object.assign({}, control, { f1: i });

const shape = (o: object) => ({ fields: Object.keys(o).length, fast: hasFastProperties(o) });
const contextOf = (a: AnyActorRef) => a.getSnapshot().context as object;
console.log(
  JSON.stringify({
    activity: shape(contextOf(activity)),
    userTurn: shape(contextOf(userTurn)),
    session: shape(contextOf(session)),
    speech: shape(contextOf(speech)),
    control: shape(control),
  }),
);
