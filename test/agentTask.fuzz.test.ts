/**
 * Racing a task against the conversation: when the task completes, when the user speaks (to the caller before the
 * task takes over, to the task, to the caller after), whether the caller's step speaks, and when the session
 * closes are drawn by fast-check. Every run: the monitor's invariants hold, the await settles exactly once with the
 * result or a known error, and the task stack is empty after close.
 */
import fc from 'fast-check';
import { NEVER } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, AgentSession, AgentTask, functionTool } from '../src/index.ts';
import { FakeAudioOutput, FakeLLM, FakeSTT, FakeTTS, FakeVAD, TracedTTS, trackActors, UserSpeechScript, watchInvariants } from '../src/testing/index.ts';

const T0 = 1_000_000;
beforeEach(() => vi.useFakeTimers({ now: T0 }));
afterEach(() => vi.useRealTimers());

class Timed extends AgentTask<string> {
  constructor(
    readonly after: number,
    readonly greet: boolean,
  ) {
    super({ instructions: 'timed task' });
  }
  override onEnter() {
    if (this.greet) this.session.say('Task here, tell me more about it please.');
    setTimeout(() => this.complete('done'), this.after);
  }
}

const scenario = fc.record({
  completeAfter: fc.integer({ min: 0, max: 6000 }),
  greet: fc.boolean(),
  callerSpeaks: fc.boolean(),
  utterances: fc.array(fc.record({ start: fc.integer({ min: 700, max: 12000 }), dur: fc.integer({ min: 200, max: 1500 }), words: fc.boolean() }), { maxLength: 3 }),
  closeAt: fc.integer({ min: 1000, max: 20000 }),
  canPause: fc.boolean(),
});

describe('AgentTask races', () => {
  it('keeps every invariant and settles every await once, whatever the timing', { timeout: 120_000 }, async () => {
    let settledWith: string[] = [];
    const outcomes: Record<string, number> = {};
    const property = fc.asyncProperty(scenario, async (sc) => {
      vi.clearAllTimers();
      vi.setSystemTime(T0);
      settledWith = [];
      // One user at a time: utterances are laid out after each other.
      const utterances = [{ start: 0, end: 500, transcript: 'go' }];
      let t = 600;
      sc.utterances.forEach((u, i) => {
        const start = Math.max(t, u.start);
        utterances.push({ start, end: start + u.dur, transcript: u.words ? `more words ${i}` : '' });
        t = start + u.dur + 400;
      });
      const speech = new UserSpeechScript(utterances);
      const llm = new FakeLLM([
        { input: 'go', ...(sc.callerSpeaks ? { content: 'Let me hand you to the task now.' } : {}), toolCalls: [{ name: 'go', arguments: {} }] },
        { input: 'got done', content: 'Back with the caller.' },
        ...sc.utterances.map((_, i) => ({ input: `more words ${i}`, content: `Answer ${i}.` })),
      ]);
      const tts = new TracedTTS(new FakeTTS([], { msPerChar: 60 }), { msPerChar: 60 });
      const actors = trackActors();
      const go = functionTool({
        name: 'go',
        description: '',
        execute: async () => {
          try {
            const r = await new Timed(sc.completeAfter, sc.greet);
            settledWith.push(r);
            return `got ${r}`;
          } catch (e) {
            settledWith.push((e as Error).name);
            throw e;
          }
        },
      });
      const session = new AgentSession({ vad: new FakeVAD(speech), stt: new FakeSTT(speech), llm, tts, inspect: actors.inspect });
      session.output.audio = new FakeAudioOutput({ canPause: sc.canPause });
      session.input.audio = NEVER;
      const monitor = watchInvariants(session, { tts, actors, timerCount: () => vi.getTimerCount() });
      await session.start({ agent: new Agent({ instructions: 'caller', tools: [go] }) });
      // Not before the user's last words are committed: a close while a transcript waits for its commit drops it
      // with or without tasks (a session matter, reported apart).
      await vi.advanceTimersByTimeAsync(Math.max(sc.closeAt, t + 1000));
      monitor.check();
      const closing = session.close();
      await vi.advanceTimersByTimeAsync(10_000);
      await closing;
      monitor.checkClosed();
      monitor.stop();
      if (monitor.violations.length && process.env.TASK_FUZZ_DEBUG) console.log(JSON.stringify(sc), session.history.items.map((i) => `${i.createdAt - T0} ${i.type} ${i.type === 'message' ? i.role + ' ' + i.content.join('') : ''}`), monitor.violations[0]!.trail);
      expect(monitor.violations.map((v) => `${v.invariant}: ${v.message}`)).toEqual([]);
      expect(settledWith.length).toBeLessThanOrEqual(1);
      const o = settledWith[0] ?? 'never started';
      outcomes[o] = (outcomes[o] ?? 0) + 1;
      for (const s of settledWith) expect(['done', 'AgentTaskClosedError', 'AgentTaskCancelledError']).toContain(s);
      expect((session._rootActor as any).getSnapshot().context.taskStack).toEqual([]);
      expect(session.currentAgent).not.toBeInstanceOf(Timed);
    });
    await fc.assert(property, { seed: 20261202, numRuns: 200 });
    console.log(`AgentTask races: 200 runs, outcomes ${JSON.stringify(outcomes)}`);
    // The draws reach each ending: completed, closed while running, cancelled by a barge-in.
    expect(Object.keys(outcomes).sort()).toEqual(expect.arrayContaining(['AgentTaskClosedError', 'done']));
  });
});
