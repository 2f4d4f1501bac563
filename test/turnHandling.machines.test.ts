/** The turn-handling rules in the machines alone, on XState's SimulatedClock, and the pure phrase match. */
import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { activityMachine, type ActivityInput } from '../machines/activity.ts';
import { DEFAULT_BACKCHANNEL_PHRASES, isBackchannel } from '../machines/backchannel.ts';
import { userTurnMachine, type UserTurnEmitted, type UserTurnInput } from '../machines/userTurn.ts';

function activity(o: Partial<ActivityInput> = {}) {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const machine = activityMachine.provide({
    actions: {
      authorizeSpeech: () => {},
      pauseOutput: () => void log.push('pause'),
      resumeOutput: () => void log.push('resume'),
      interruptSpeech: (_, { id }) => void log.push(`interrupt ${id}`),
      acceptTurn: () => void log.push('accept'),
      dropTurn: () => void log.push('drop'),
      holdTurn: () => void log.push('hold'),
      aecWarmupStarted: () => void log.push('aec'),
    },
  });
  const input: ActivityInput = {
    minConsecutiveSpeechDelay: 0,
    interruption: { mode: 'vad', minDuration: 500, minWords: 0, hasStt: true },
    pauseEnabled: false,
    falseInterruptionTimeout: 2000,
    ...o,
  };
  const actor = createActor(machine, { input, clock }).start();
  actor.send({ type: 'STARTED' });
  actor.send({ type: 'SPEECH_ENQUEUED', id: 's', priority: 5, kind: 'reply' });
  return { actor, clock, log };
}
const current = { id: 's', interrupted: false, allowInterruptions: true };
const audio = (speechDuration: number, transcript = '') => ({ type: 'AUDIO_ACTIVITY' as const, speechDuration, words: transcript.split(' ').filter(Boolean).length, transcript, current });

describe('activity machine: AEC warm-up', () => {
  it('opens at the first audible speech, blocks audio interruptions for its duration, then lets them through', () => {
    const a = activity({ aecWarmup: 3000 });
    expect(a.actor.getSnapshot().value).toMatchObject({ aec: 'pending' });
    a.actor.send(audio(800)); // thinking, no warm-up yet: the reply is cut
    expect(a.log).toEqual(['interrupt s']);
    a.log.length = 0;
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 's' });
    expect(a.actor.getSnapshot().value).toMatchObject({ aec: 'warming', agent: 'speaking' });
    expect(a.log).toEqual(['aec']);
    a.actor.send(audio(800));
    a.actor.send({ type: 'FINAL_TRANSCRIPT', words: 1, transcript: 'stop', current });
    a.actor.send({ type: 'END_OF_TURN', words: 1, transcript: 'stop', current }); // held, not accepted
    expect(a.log).toEqual(['aec', 'hold']);
    a.log.length = 0;
    a.clock.increment(3000);
    expect(a.actor.getSnapshot().value).toMatchObject({ aec: 'ready' });
    a.actor.send(audio(800));
    expect(a.log).toEqual(['interrupt s']);
  });

  it('a window begun under an earlier activity goes on at once; none (0) is ready from the start', () => {
    expect(activity({ aecWarmup: 1000, aecWarmupStarted: true }).actor.getSnapshot().value).toMatchObject({ aec: 'warming' });
    expect(activity({ aecWarmup: 0 }).actor.getSnapshot().value).toMatchObject({ aec: 'ready' });
  });
});

describe('activity machine: per-state rules', () => {
  const policy = { mode: 'vad' as const, minDuration: 500, minWords: 0, hasStt: true, speaking: { minDuration: 1500 }, thinking: { enabled: false } };

  it('thinking: disabled, so neither audio nor a committed turn cuts the reply', () => {
    const a = activity({ interruption: policy });
    a.actor.send(audio(5000));
    expect(a.log).toEqual([]);
    a.actor.send({ type: 'END_OF_TURN', words: 3, transcript: 'one two three', current });
    expect(a.log).toEqual(['hold']);
  });

  it('speaking: its own minDuration, the top-level words', () => {
    const a = activity({ interruption: policy });
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 's' });
    a.actor.send(audio(1000));
    expect(a.log).toEqual([]);
    a.actor.send(audio(1500));
    expect(a.log).toEqual(['interrupt s']);
  });
});

describe('activity machine: backchannel', () => {
  it('while speaking a backchannel never interrupts and its turn is dropped; anything else is accepted', () => {
    const a = activity({ backchannel: DEFAULT_BACKCHANNEL_PHRASES });
    a.actor.send({ type: 'PLAYBACK_STARTED', id: 's' });
    a.actor.send(audio(800, 'mhm'));
    a.actor.send({ type: 'FINAL_TRANSCRIPT', words: 1, transcript: 'Mhm.', current });
    a.actor.send({ type: 'END_OF_TURN', words: 1, transcript: 'Mhm.', current });
    expect(a.log).toEqual(['drop']);
    a.actor.send({ type: 'END_OF_TURN', words: 2, transcript: 'mhm, but wait', current });
    expect(a.log).toEqual(['drop', 'accept']);
  });

  it('a paused speech resumes on a backchannel final; without the filter the final cuts it', () => {
    for (const [backchannel, expected] of [
      [DEFAULT_BACKCHANNEL_PHRASES, ['pause', 'resume']],
      [null, ['pause', 'interrupt s']],
    ] as const) {
      const a = activity({ backchannel, pauseEnabled: true });
      a.actor.send({ type: 'PLAYBACK_STARTED', id: 's' });
      a.actor.send(audio(800));
      a.actor.send({ type: 'FINAL_TRANSCRIPT', words: 2, transcript: 'uh-huh okay', current });
      expect(a.log).toEqual(expected);
      expect(a.actor.getSnapshot().value).toMatchObject({ pause: 'none' });
    }
  });

  it('before the speech is audible a backchannel is an ordinary turn', () => {
    const a = activity({ backchannel: DEFAULT_BACKCHANNEL_PHRASES });
    a.actor.send({ type: 'END_OF_TURN', words: 1, transcript: 'okay', current });
    expect(a.log).toEqual(['accept']);
  });
});

describe('isBackchannel', () => {
  it('matches only transcripts made of the phrases, ignoring case and punctuation', () => {
    const p = DEFAULT_BACKCHANNEL_PHRASES;
    expect(isBackchannel('Mhm.', p)).toBe(true);
    expect(isBackchannel('Uh-huh, okay!', p)).toBe(true);
    expect(isBackchannel('yeah I see', p)).toBe(true);
    expect(isBackchannel('I', p)).toBe(false); // "i see" is one phrase; "i" alone is not
    expect(isBackchannel('okay but why', p)).toBe(false);
    expect(isBackchannel('', p)).toBe(false);
    expect(isBackchannel('...', p)).toBe(false);
  });

  it('by language: the transcript language picks the list; unknown: all lists', () => {
    const p = { en: ['okay'], fr: ['ouais'], '*': ['mhm'] };
    expect(isBackchannel('ouais', p, 'fr-FR')).toBe(true);
    expect(isBackchannel('okay', p, 'fr')).toBe(false);
    expect(isBackchannel('mhm', p, 'fr')).toBe(true);
    expect(isBackchannel('okay', p)).toBe(true);
  });
});

function userTurn(o: Partial<UserTurnInput> = {}) {
  const clock = new SimulatedClock();
  const emitted: UserTurnEmitted[] = [];
  const actor = createActor(userTurnMachine, { input: { mode: 'vad', hasStt: false, minDelay: 500, maxDelay: 3000, now: 0, ...o }, clock });
  actor.on('*', (e) => void emitted.push(e as UserTurnEmitted));
  actor.start();
  /** Advances the clock to `t` and sends `ev` stamped `now: t`. */
  const at = (t: number, ev?: Record<string, unknown>) => {
    clock.increment(t - clock.now());
    if (ev) actor.send({ now: t, ...ev } as never);
  };
  const commits = () => emitted.filter((e) => e.type === 'endOfTurn').map((e) => (e.type === 'endOfTurn' ? e.info.committedAt : 0));
  return { actor, clock, emitted, at, commits };
}

describe('user-turn machine: dynamic endpointing', () => {
  it('learns intra-turn pauses as an EMA and waits that long, within minDelay..maxDelay; fixed mode does not', () => {
    for (const mode of ['fixed', 'dynamic'] as const) {
      const u = userTurn({ endpointing: { mode, alpha: 0.5 } });
      u.at(0, { type: 'VAD_SPEECH_START', at: 0 });
      u.at(1000, { type: 'VAD_SPEECH_END', at: 1000 });
      u.at(1400, { type: 'VAD_SPEECH_START', at: 1400 }); // pause 400: under minDelay, no commit
      u.at(2000, { type: 'VAD_SPEECH_END', at: 2000 });
      u.at(2500);
      u.actor.send({ type: 'TURN_ACCEPTED' });
      // The user resumes 300 ms after the commit: the 800 ms silence was a pause.
      u.at(2800, { type: 'VAD_SPEECH_START', at: 2800 });
      u.at(3000, { type: 'VAD_SPEECH_END', at: 3000 });
      u.at(6000);
      const c = u.actor.getSnapshot().context.endpointing;
      expect(c.pauseEma).toBe(0.5 * 400 + 0.5 * 800);
      expect(u.commits()).toEqual(mode === 'fixed' ? [2500, 3500] : [2500, 3000 + 600]);
    }
  });

  it('the learnt delay is bounded by maxDelay, and the statistic is plain data', () => {
    const u = userTurn({ endpointing: { mode: 'dynamic', alpha: 0 }, maxDelay: 700 });
    u.at(0, { type: 'VAD_SPEECH_START', at: 0 });
    u.at(100, { type: 'VAD_SPEECH_END', at: 100 });
    u.at(600);
    u.actor.send({ type: 'TURN_ACCEPTED' });
    u.at(1000, { type: 'VAD_SPEECH_START', at: 1000 }); // 400 ms after the commit: a 900 ms pause
    u.at(1200, { type: 'VAD_SPEECH_END', at: 1200 });
    u.at(3000);
    expect(u.actor.getSnapshot().context.endpointing.pauseEma).toBe(900);
    expect(u.commits()).toEqual([600, 1200 + 700]);
    const c = u.actor.getSnapshot().context.endpointing;
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });
});

describe('user-turn machine: userTurnLimit', () => {
  it('emits once per turn past maxDuration (a delay from the first speech), again for the next turn', () => {
    const u = userTurn({ userTurnLimit: { maxDuration: 2000 } });
    u.at(100, { type: 'VAD_SPEECH_START', at: 100 });
    u.at(2099);
    expect(u.emitted.filter((e) => e.type === 'userTurnExceeded')).toHaveLength(0);
    u.at(5000);
    const ex = u.emitted.filter((e) => e.type === 'userTurnExceeded');
    expect(ex.map((e) => e.type === 'userTurnExceeded' && [e.info.reason, e.info.durationMs])).toEqual([['maxDuration', 2000]]);
    u.at(5100, { type: 'VAD_SPEECH_END', at: 5100 });
    u.actor.send({ type: 'CLEAR_TURN' });
    u.at(6000, { type: 'VAD_SPEECH_START', at: 6000 });
    u.at(9000);
    expect(u.emitted.filter((e) => e.type === 'userTurnExceeded')).toHaveLength(2);
  });

  it('emits past maxWords as interims and finals add up', () => {
    const u = userTurn({ userTurnLimit: { maxWords: 3 }, hasStt: true });
    u.at(0, { type: 'VAD_SPEECH_START', at: 0 });
    u.at(500, { type: 'INTERIM_TRANSCRIPT', text: 'one two three' });
    expect(u.emitted).toHaveLength(0);
    u.at(900, { type: 'INTERIM_TRANSCRIPT', text: 'one two three four' });
    expect(u.emitted.map((e) => e.type === 'userTurnExceeded' && [e.info.reason, e.info.words, e.info.transcript])).toEqual([['maxWords', 4, 'one two three four']]);
  });
});
