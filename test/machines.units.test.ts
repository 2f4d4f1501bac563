/**
 * Each statechart alone, on XState's SimulatedClock: no session, no fakes, no timers of Node's. Effects are
 * provided as recorders. Also: every machine's persisted snapshot survives JSON and restores the same state.
 */
import { createActor, fromPromise, SimulatedClock, waitFor, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { activityMachine, type ActivityInput } from '../machines/activity.ts';
import { audioOutputMachine } from '../machines/audioOutput.ts';
import { sessionMachine, type CloseReason, type ErrorInfo } from '../machines/session.ts';
import { speechMachine } from '../machines/speech.ts';
import { userTurnMachine } from '../machines/userTurn.ts';

const activityInput = (o: Partial<ActivityInput> = {}): ActivityInput => ({
  minConsecutiveSpeechDelay: 0,
  interruption: { mode: 'vad', minDuration: 500, minWords: 0, hasStt: true },
  pauseEnabled: true,
  falseInterruptionTimeout: 2000,
  ...o,
});

function activity(o: Partial<ActivityInput> = {}) {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const machine = activityMachine.provide({
    actions: {
      authorizeSpeech: (_, { id }) => void log.push(`authorize ${id}`),
      rejectSpeech: (_, { id }) => void log.push(`reject ${id}`),
      pauseOutput: () => void log.push('pause'),
      resumeOutput: () => void log.push('resume'),
      interruptSpeech: (_, { id }) => void log.push(`interrupt ${id}`),
      reportFalseInterruption: (_, { resumed }) => void log.push(`false interruption resumed=${resumed}`),
    },
  });
  const actor = createActor(machine, { input: activityInput(o), clock }).start();
  actor.send({ type: 'STARTED' });
  const agent = () => actor.getSnapshot().value.agent;
  return { actor, clock, log, agent };
}

const facts = (id: string, allowInterruptions = true) => ({ id, interrupted: false, allowInterruptions });

describe('activity machine', () => {
  it('authorises one speech at a time, by priority then FIFO', () => {
    const a = activity();
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'a', priority: 5, kind: 'say' });
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'b', priority: 5, kind: 'say' });
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'c', priority: 10, kind: 'say' });
    expect(a.log).toEqual(['authorize a']);
    a.actor.send({ type: 'STEP_DONE', id: 'b' }); // not the current one: ignored
    expect(a.log).toEqual(['authorize a']);
    a.actor.send({ type: 'STEP_DONE', id: 'a' });
    a.actor.send({ type: 'SPEECH_DONE', id: 'c' });
    expect(a.log).toEqual(['authorize a', 'authorize c', 'authorize b']);
  });

  it('keeps minConsecutiveSpeechDelay between two speeches as an XState delay', () => {
    const a = activity({ minConsecutiveSpeechDelay: 300 });
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'a', priority: 5, kind: 'say' });
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'b', priority: 5, kind: 'say' });
    a.actor.send({ type: 'STEP_DONE', id: 'a' });
    a.clock.increment(299);
    expect(a.log).toEqual(['authorize a']);
    a.clock.increment(1);
    expect(a.log).toEqual(['authorize a', 'authorize b']);
  });

  it('derives the agent state: thinking while a reply is pending, speaking only while audible', () => {
    const a = activity();
    expect(a.agent()).toBe('listening');
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'r', priority: 5, kind: 'reply' });
    expect(a.agent()).toBe('thinking');
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 'other' });
    expect(a.agent()).toBe('thinking');
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 'r' });
    expect(a.agent()).toBe('speaking');
    a.actor.send({ type: 'TOOLS_CHANGED', running: 1 });
    a.actor.send({ type: 'STEP_DONE', id: 'r', toolsPending: true });
    expect(a.agent()).toBe('thinking'); // tools of the step still to be answered
    a.actor.send({ type: 'TOOLS_CHANGED', running: 0 });
    expect(a.agent()).toBe('thinking');
    a.actor.send({ type: 'TOOL_STEP_DONE', id: 'r' });
    expect(a.agent()).toBe('listening');
  });

  it('a say() is not thinking: listening until its audio plays', () => {
    const a = activity();
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 's', priority: 5, kind: 'say' });
    expect(a.agent()).toBe('listening');
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 's' });
    expect(a.agent()).toBe('speaking');
  });

  it('user audio pauses an interruptible speech; silence for falseInterruptionTimeout resumes it and reports it', () => {
    const a = activity();
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'r', priority: 5, kind: 'reply' });
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 'r' });
    a.actor.send({ type: 'USER_SPEECH_START', current: facts('r') });
    a.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: 100, words: 0, current: facts('r') });
    expect(a.log).not.toContain('pause'); // too short to count
    a.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: 600, words: 0, current: facts('r') });
    expect(a.log).toContain('pause');
    expect(a.agent()).toBe('listening');
    // The scheduler still holds the paused speech: nothing else is authorised meanwhile.
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'x', priority: 5, kind: 'say' });
    expect(a.actor.getSnapshot().context.current).toBe('r');
    a.actor.send({ type: 'USER_SPEECH_END' });
    a.clock.increment(2000);
    expect(a.log.slice(-2)).toEqual(['false interruption resumed=true', 'resume']);
    expect(a.agent()).toBe('speaking');
  });

  it('a final transcript during the pause interrupts the paused speech for good', () => {
    const a = activity();
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'r', priority: 5, kind: 'reply' });
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 'r' });
    a.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: 600, words: 0, current: facts('r') });
    a.actor.send({ type: 'FINAL_TRANSCRIPT', words: 2, current: facts('r') });
    expect(a.log.at(-1)).toBe('interrupt r');
    expect(a.actor.getSnapshot().value.pause).toBe('none');
  });

  it('an uninterruptible speech is neither paused nor interrupted; manual mode ignores audio', () => {
    const a = activity();
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'r', priority: 5, kind: 'reply' });
    a.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: 900, words: 3, current: facts('r', false) });
    const m = activity({ interruption: { mode: 'manual', minDuration: 0, minWords: 0, hasStt: true } });
    m.actor.send({ type: 'SPEECH_ENQUEUED', id: 'r', priority: 5, kind: 'reply' });
    m.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: 900, words: 3, current: facts('r') });
    expect([...a.log, ...m.log]).toEqual(['authorize r', 'authorize r']);
  });

  it('holds the floor while the user speaks', () => {
    const a = activity();
    a.actor.send({ type: 'USER_SPEECH_START', current: null });
    expect(a.actor.getSnapshot().context.userSpeaking).toBe(true);
    a.actor.send({ type: 'USER_SPEECH_END' });
    expect(a.actor.getSnapshot().context.userSpeaking).toBe(false);
  });

  it('fences: blocked turns are refused, paused scheduling rejects new speech but forced steps pass', () => {
    const a = activity();
    a.actor.send({ type: 'BLOCK_TURNS' });
    expect(a.actor.getSnapshot().can({ type: 'END_OF_TURN', words: 2, current: null })).toBe(false);
    a.actor.send({ type: 'PAUSE_SCHEDULING' });
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'n', priority: 5, kind: 'say' });
    a.actor.send({ type: 'SPEECH_ENQUEUED', id: 'f', priority: 5, kind: 'reply', force: true });
    expect(a.log).toEqual(['reject n', 'authorize f']);
  });
});

describe('speech machine', () => {
  const speech = (maxToolSteps = 2, toolChoice: 'auto' | 'none' = 'auto') =>
    createActor(speechMachine, { input: { id: 's', priority: 5, allowInterruptions: true, maxToolSteps, toolChoice } }).start();

  it('runs the tool loop: a reply while steps remain, forced to text when they are spent', () => {
    const s = speech(1);
    s.send({ type: 'SCHEDULE' });
    s.send({ type: 'AUTHORIZE' });
    s.send({ type: 'STEP_DONE', toolCalls: 1 });
    expect(s.getSnapshot().value).toBe('runningTools');
    s.send({ type: 'TOOLS_DONE', replyWanted: true, handoff: false });
    expect(s.getSnapshot().value).toBe('scheduled');
    expect(s.getSnapshot().context.toolChoice).toBe('auto');
    s.send({ type: 'AUTHORIZE' });
    s.send({ type: 'STEP_DONE', toolCalls: 1 });
    s.send({ type: 'TOOLS_DONE', replyWanted: true, handoff: false });
    expect(s.getSnapshot().context).toMatchObject({ numSteps: 3, toolChoice: 'none' });
    s.send({ type: 'AUTHORIZE' });
    s.send({ type: 'STEP_DONE', toolCalls: 0 });
    expect(s.getSnapshot().status).toBe('done');
  });

  it('no tool reply after an interruption; none with tools after a handoff', () => {
    const a = speech();
    a.send({ type: 'SCHEDULE' });
    a.send({ type: 'AUTHORIZE' });
    a.send({ type: 'STEP_DONE', toolCalls: 2 });
    a.send({ type: 'INTERRUPT' });
    a.send({ type: 'TOOLS_DONE', replyWanted: true, handoff: false });
    expect(a.getSnapshot().status).toBe('done');
    const b = speech();
    b.send({ type: 'SCHEDULE' });
    b.send({ type: 'AUTHORIZE' });
    b.send({ type: 'STEP_DONE', toolCalls: 1 });
    b.send({ type: 'TOOLS_DONE', replyWanted: true, handoff: true });
    expect(b.getSnapshot().context.toolChoice).toBe('none');
  });

  it('an uninterruptible speech ignores INTERRUPT unless forced', () => {
    const s = createActor(speechMachine, { input: { id: 's', priority: 5, allowInterruptions: false } }).start();
    s.send({ type: 'INTERRUPT' });
    expect(s.getSnapshot().context.interrupted).toBe(false);
    s.send({ type: 'INTERRUPT', force: true });
    expect(s.getSnapshot().context.interrupted).toBe(true);
  });
});

describe('userTurn machine', () => {
  function turn(mode: 'vad' | 'stt' | 'manual' = 'vad') {
    const clock = new SimulatedClock();
    const commits: Array<{ transcript: string; committedAt: number }> = [];
    const actor = createActor(userTurnMachine, { input: { mode, hasStt: true, minDelay: 500, maxDelay: 3000, now: 0 }, clock });
    actor.on('endOfTurn', ({ info }) => void commits.push({ transcript: info.transcript, committedAt: info.committedAt }));
    actor.start();
    return { actor, clock, commits };
  }

  it('vad: commits minDelay after the end of speech once a final transcript exists', () => {
    const t = turn();
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 50 });
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'hello', at: 1300, now: 1300 });
    t.clock.increment(199);
    expect(t.commits).toEqual([]);
    t.clock.increment(1);
    expect(t.commits).toEqual([{ transcript: 'hello', committedAt: 1500 }]);
  });

  it('vad: a final transcript after the delay ran out commits at once', () => {
    const t = turn();
    t.actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 50 });
    t.actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    // No endpointing timer is armed (and cancelled in the same step) for a delay that is over already.
    const armed: number[] = [];
    const setTimeout = t.clock.setTimeout.bind(t.clock);
    t.clock.setTimeout = (fn, ms) => (armed.push(ms), setTimeout(fn, ms));
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'late', at: 2000, now: 2000 });
    expect(t.commits).toEqual([{ transcript: 'late', committedAt: 2000 }]);
    expect(armed).toEqual([]);
    // The next turn, with time left: its commit waits for the timer.
    t.actor.send({ type: 'TURN_ACCEPTED' });
    t.actor.send({ type: 'VAD_SPEECH_START', at: 3000, now: 3050 });
    t.actor.send({ type: 'VAD_SPEECH_END', at: 4000, now: 4250 });
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'soon', at: 4300, now: 4300 });
    expect(armed).toEqual([200]);
    t.clock.increment(200);
    expect(t.commits.at(-1)).toEqual({ transcript: 'soon', committedAt: 4500 });
  });

  it('manual: only COMMIT_TURN commits; CLEAR_TURN drops the transcript', () => {
    const t = turn('manual');
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'one', at: 10, now: 10 });
    t.actor.send({ type: 'CLEAR_TURN' });
    t.actor.send({ type: 'FINAL_TRANSCRIPT', text: 'two', at: 20, now: 20 });
    t.clock.increment(10_000);
    expect(t.commits).toEqual([]);
    t.actor.send({ type: 'COMMIT_TURN', at: 30 });
    expect(t.commits.map((c) => c.transcript)).toEqual(['two']);
  });

  it('a carried-over transcript commits in the new turn (handoff)', () => {
    const t = turn();
    t.actor.send({ type: 'CARRY_OVER', transcript: 'I need billing', speechStartedAt: 0, lastSpeakingAt: 1000, lastFinalAt: 1000, at: 1100 });
    t.clock.increment(399);
    expect(t.commits).toEqual([]);
    t.clock.increment(1);
    expect(t.commits).toEqual([{ transcript: 'I need billing', committedAt: 1500 }]);
  });

  it('an end-of-turn model finding the end unlikely stretches the delay to maxDelay', async () => {
    const clock = new SimulatedClock();
    const commits: number[] = [];
    const m = userTurnMachine.provide({ actors: { predictEndOfTurn: (await import('xstate')).fromPromise(async () => ({ probability: 0.1, at: 1300 })) } });
    const actor = createActor(m, { input: { mode: 'vad', hasStt: true, minDelay: 500, maxDelay: 3000, detector: { unlikelyThreshold: 0.5 }, now: 0 }, clock });
    actor.on('endOfTurn', ({ info }) => void commits.push(info.committedAt));
    actor.start();
    actor.send({ type: 'VAD_SPEECH_START', at: 0, now: 50 });
    actor.send({ type: 'FINAL_TRANSCRIPT', text: 'so I was thinking', at: 900, now: 900 });
    actor.send({ type: 'VAD_SPEECH_END', at: 1000, now: 1250 });
    await new Promise((r) => setTimeout(r, 0));
    clock.increment(3000 - 300 - 1);
    expect(commits).toEqual([]);
    clock.increment(1);
    expect(commits).toEqual([4000]);
  });
});

describe('session machine', () => {
  const started = async (maxUnrecoverableErrors: number) => {
    const closes: string[] = [];
    const m = sessionMachine.provide({
      actors: {
        closeSession: fromPromise<void, { reason: CloseReason; error: ErrorInfo | null; drain: boolean }>(async ({ input }) => {
          closes.push(input.reason);
        }),
      },
    });
    const actor = createActor(m, { input: { userAwayTimeout: null, maxUnrecoverableErrors } }).start();
    actor.send({ type: 'START' });
    await waitFor(actor, (s) => s.matches('running'));
    return { actor, closes };
  };
  const err = { name: 'APIError', message: 'down' };

  it('closes with reason error once one model kind exceeds the unrecoverable-error budget', async () => {
    const { actor, closes } = await started(2);
    actor.send({ type: 'MODEL_FAILED', kind: 'llm', error: err });
    actor.send({ type: 'MODEL_FAILED', kind: 'tts', error: err });
    actor.send({ type: 'MODEL_FAILED', kind: 'llm', error: err });
    expect(actor.getSnapshot().matches('running')).toBe(true);
    actor.send({ type: 'MODEL_FAILED', kind: 'llm', error: err });
    await waitFor(actor, (s) => s.matches('closed'));
    expect(closes).toEqual(['error']);
    expect(actor.getSnapshot().context.closeError).toEqual(err);
  });

  it('a kind that works again starts its count afresh', async () => {
    const { actor } = await started(1);
    actor.send({ type: 'MODEL_FAILED', kind: 'stt', error: err });
    actor.send({ type: 'MODEL_RECOVERED', kinds: ['stt'] });
    actor.send({ type: 'MODEL_FAILED', kind: 'stt', error: err });
    expect(actor.getSnapshot().context.errorCounts.stt).toBe(1);
    expect(actor.getSnapshot().matches('running')).toBe(true);
  });

  it('a second agent update during a handoff waits its turn, then hands off again', async () => {
    const handoffs: string[] = [];
    let release!: () => void;
    const m = sessionMachine.provide({
      actors: {
        handoff: fromPromise(async ({ input }: { input: { agent: string } }) => {
          handoffs.push(input.agent);
          if (handoffs.length === 1) await new Promise<void>((r) => (release = r));
        }),
      },
    });
    const actor = createActor(m, { input: { userAwayTimeout: null } }).start();
    actor.send({ type: 'START' });
    await waitFor(actor, (s) => s.matches('running'));
    actor.send({ type: 'UPDATE_AGENT', agent: 'a1' });
    actor.send({ type: 'UPDATE_AGENT', agent: 'a2' });
    await new Promise((r) => setTimeout(r, 0));
    expect(handoffs).toEqual(['a1']);
    release();
    await waitFor(actor, (s) => s.matches({ running: { agent: 'active' } }));
    expect(handoffs).toEqual(['a1', 'a2']);
  });
});

describe('audioOutput machine', () => {
  it('pauses only a device that can pause, and resumes', () => {
    const log: string[] = [];
    const m = audioOutputMachine.provide({ actions: { pauseDevice: () => void log.push('pause'), resumeDevice: () => void log.push('resume') } });
    const no = createActor(m, { input: { canPause: false } }).start();
    no.send({ type: 'PAUSE' });
    const yes = createActor(m, { input: { canPause: true } }).start();
    yes.send({ type: 'PAUSE' });
    yes.send({ type: 'RESUME' });
    expect(log).toEqual(['pause', 'resume']);
    expect(no.getSnapshot().matches({ pause: 'running' })).toBe(true);
  });
});

describe('persisted snapshots', () => {
  const cases: Array<[string, AnyStateMachine, unknown, Array<Record<string, unknown>>]> = [
    ['activity', activityMachine, activityInput({ minConsecutiveSpeechDelay: 100 }), [
      { type: 'STARTED' },
      { type: 'SPEECH_ENQUEUED', id: 'a', priority: 5, kind: 'reply' },
      { type: 'SPEECH_ENQUEUED', id: 'b', priority: 5, kind: 'say' },
      { type: 'PLAYBACK_STARTED', id: 'a' },
      { type: 'AUDIO_ACTIVITY', speechDuration: 900, words: 0, current: facts('a') },
    ]],
    ['userTurn', userTurnMachine, { mode: 'vad', hasStt: true, minDelay: 500, maxDelay: 3000, now: 0 }, [
      { type: 'VAD_SPEECH_START', at: 0, now: 50 },
      { type: 'FINAL_TRANSCRIPT', text: 'half a', at: 600, now: 600 },
    ]],
    ['speech', speechMachine, { id: 's', priority: 5, allowInterruptions: true }, [{ type: 'SCHEDULE' }, { type: 'AUTHORIZE' }, { type: 'STEP_DONE', toolCalls: 1 }]],
    ['audioOutput', audioOutputMachine, { canPause: true }, [{ type: 'PLAYBACK_STARTED' }, { type: 'PAUSE' }]],
    ['session', sessionMachine, { userAwayTimeout: 1000, maxUnrecoverableErrors: 3 }, [{ type: 'CLOSE', reason: 'error', error: { name: 'E', message: 'x' } }]],
  ];
  for (const [name, machine, input, events] of cases) {
    it(`${name}: JSON round-trip restores the same state and context`, () => {
      const a = createActor(machine, { input, clock: new SimulatedClock() }).start();
      for (const e of events) a.send(e as never);
      const json = JSON.stringify(a.getPersistedSnapshot());
      const restored = createActor(machine, { input, snapshot: JSON.parse(json), clock: new SimulatedClock() }).start();
      expect(restored.getSnapshot().value).toEqual(a.getSnapshot().value);
      expect(restored.getSnapshot().context).toEqual(a.getSnapshot().context);
      expect(JSON.parse(JSON.stringify(a.getSnapshot().context))).toEqual(a.getSnapshot().context);
    });
  }
});
