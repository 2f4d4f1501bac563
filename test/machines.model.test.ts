/**
 * Model-based proof over the real machines: @xstate/graph walks every state of the activity and user-turn
 * statecharts reachable with a set of events (time passing is an event too: the machines' own delayed events),
 * and each path is replayed with XState's pure `transition()` so that the executed actions are visible. After every
 * step the invariants must hold:
 * - activity: at most one authorised speech (no authorisation before the current speech is released); `speaking`
 *   only with audible output; `thinking` only while a reply is pending and the agent is not paused for the user;
 *   the current speech is cleared when it ends;
 * - user turn: a VAD-mode turn never commits while the user speaks, and never without a transcript.
 */
import { getShortestPaths } from '@xstate/graph';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { activityMachine, isAudible, isBusy, type ActivityContext, type ActivityEvent } from '../machines/activity.ts';
import { userTurnMachine, type UserTurnContext, type UserTurnEvent } from '../machines/userTurn.ts';

const facts = (id: string) => ({ id, interrupted: false, allowInterruptions: true });

const activityEvents: ActivityEvent[] = [
  { type: 'STARTED' },
  { type: 'SPEECH_ENQUEUED', id: 'r', priority: 5, kind: 'reply' },
  { type: 'SPEECH_ENQUEUED', id: 's', priority: 5, kind: 'say' },
  { type: 'PLAYBACK_STARTED', id: 'r' },
  { type: 'PLAYBACK_STARTED', id: 's' },
  { type: 'STEP_DONE', id: 'r', toolsPending: true },
  { type: 'STEP_DONE', id: 's' },
  { type: 'TOOL_STEP_DONE', id: 'r' },
  { type: 'SPEECH_DONE', id: 'r' },
  { type: 'SPEECH_DONE', id: 's' },
  { type: 'USER_SPEECH_START', current: facts('r') },
  { type: 'USER_SPEECH_END' },
  { type: 'AUDIO_ACTIVITY', speechDuration: 1000, words: 3, current: facts('r') },
  { type: 'FINAL_TRANSCRIPT', words: 3, current: facts('r') },
];
/** The pause's timer firing, as the machine would receive it. */
const falseInterruptionElapsed = { type: 'xstate.after.falseInterruptionTimeout.activity.pause.timing' } as unknown as ActivityEvent;

const activityInput = {
  minConsecutiveSpeechDelay: 0,
  interruption: { mode: 'vad' as const, minDuration: 500, minWords: 0, hasStt: true },
  pauseEnabled: true,
  falseInterruptionTimeout: 2000,
};

const activityKey = (s: AnyMachineSnapshot) => {
  const c = s.context as ActivityContext;
  return JSON.stringify([s.value, c.queue.map((q) => q.id), c.current, c.paused, c.segmentStarted, c.toolSteps, c.userSpeaking]);
};

describe('activity machine: every reachable state keeps the invariants', () => {
  const paths = getShortestPaths(activityMachine, {
    events: [...activityEvents, falseInterruptionElapsed],
    serializeState: activityKey,
    input: activityInput,
  } as never);

  it('reaches a rich state space (both speeches, pauses, tool steps)', () => {
    expect(paths.length).toBeGreaterThan(200);
    const values = new Set(paths.map((p) => JSON.stringify(p.state.value)));
    for (const agent of ['listening', 'thinking', 'speaking']) expect([...values].some((v) => v.includes(`"agent":"${agent}"`))).toBe(true);
    expect([...values].some((v) => v.includes('"pause":"timing"'))).toBe(true);
  });

  it('holds them after every step of every path', () => {
    let steps = 0;
    for (const path of paths) {
      let [snap] = initialTransition(activityMachine, activityInput);
      let authorized: string | null = null;
      for (const step of path.steps.slice(1)) {
        const before = snap.context as ActivityContext;
        const [next, actions] = transition(activityMachine, snap, step.event as ActivityEvent);
        const c = next.context as ActivityContext;
        const where = `${path.steps.map((s) => s.event.type).join(' > ')} at ${step.event.type}`;
        // The scheduler's current speech is released by its own STEP_DONE / SPEECH_DONE, nothing else.
        const ev = step.event as { type: string; id?: string };
        if (authorized !== null && (ev.type === 'STEP_DONE' || ev.type === 'SPEECH_DONE') && ev.id === authorized) authorized = null;
        for (const a of actions) {
          if (a.type !== 'authorizeSpeech') continue;
          const id = (a as unknown as { params: { id: string } }).params.id;
          expect(authorized, `second speech authorised while ${authorized} holds the output: ${where}`).toBeNull();
          authorized = id;
        }
        expect(c.current, where).toBe(authorized);
        if ((ev.type === 'STEP_DONE' || ev.type === 'SPEECH_DONE') && ev.id === before.current) expect(c.current, where).not.toBe(ev.id);
        const agent = (next.value as { agent: string }).agent;
        if (agent === 'speaking') expect(isAudible(c), `speaking without audible output: ${where}`).toBe(true);
        if (agent === 'thinking') expect(isBusy(c) && c.paused === null, `thinking with nothing pending: ${where}`).toBe(true);
        if (agent === 'listening') expect(isAudible(c), `listening while audible: ${where}`).toBe(false);
        snap = next;
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(1000);
  });
});

describe('userTurn machine: every reachable state keeps the invariants', () => {
  const input = { mode: 'vad' as const, hasStt: true, minDelay: 500, maxDelay: 3000, now: 0 };
  const events: UserTurnEvent[] = [
    { type: 'VAD_SPEECH_START', at: 0, now: 50 },
    { type: 'VAD_SPEECH_END', at: 1000, now: 1250 },
    { type: 'INTERIM_TRANSCRIPT', text: 'hel', at: 500 },
    { type: 'FINAL_TRANSCRIPT', text: 'hello', at: 1100, now: 1100 },
    { type: 'FINAL_TRANSCRIPT', text: 'again', at: 3000, now: 3000 },
    { type: 'TURN_ACCEPTED' },
    { type: 'CLEAR_TURN' },
    { type: 'USER_AWAY' },
    { type: 'CARRY_OVER', transcript: 'carried', speechStartedAt: 0, lastSpeakingAt: 1000, lastFinalAt: 1000, at: 1100 },
    { type: 'xstate.after.endpointingDelay.userTurn.endpointing.deciding.waiting' } as unknown as UserTurnEvent,
  ];
  const key = (s: AnyMachineSnapshot) => {
    const c = s.context as UserTurnContext;
    // Transcripts grow without bound; the walk tells apart none, one and several final pieces.
    const pieces = c.transcript ? Math.min(2, c.transcript.split(' ').length) : 0;
    return JSON.stringify([s.value, pieces, c.speaking, c.lastSpeakingAt !== null, c.speechStartedAt !== null]);
  };
  const paths = getShortestPaths(userTurnMachine, { events, serializeState: key, input } as never);

  it('never commits while the user speaks, nor without a transcript', () => {
    let commits = 0;
    for (const path of paths) {
      let [snap] = initialTransition(userTurnMachine, input);
      for (const step of path.steps.slice(1)) {
        const [next, actions] = transition(userTurnMachine, snap, step.event as UserTurnEvent);
        const where = path.steps.map((s) => s.event.type).join(' > ');
        for (const a of actions) {
          const emitted = (a as unknown as { params?: { event?: { type: string; info: { transcript: string } } } }).params?.event;
          if ((a.type as string) !== 'xstate.emit' || emitted?.type !== 'endOfTurn') continue;
          commits++;
          expect((snap.context as UserTurnContext).speaking, `commit while speaking: ${where}`).toBe(false);
          expect(emitted.info.transcript.trim(), `commit without words: ${where}`).not.toBe('');
        }
        snap = next;
      }
    }
    expect(paths.length).toBeGreaterThan(30);
    expect(commits).toBeGreaterThan(5);
  });
});
