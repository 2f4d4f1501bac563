/**
 * Model-based test: the pure `turnTakingModel` statechart is walked with @xstate/graph (transition coverage) and
 * every path is replayed against a real AgentSession driven by the testing fakes in virtual time. After each step
 * the session's agent and user states must equal the model state's tags.
 */
import { createTestModel } from '@xstate/graph';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { turnTakingModel } from '../machines/turnTakingModel.ts';
import { startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

const REPLY = 'Here is a fairly long answer that keeps the agent talking for a while.';

const model = createTestModel(turnTakingModel, {
  serializeState: (s, e, prev) => JSON.stringify(s.value) + (e && prev ? ` via ${e.type} from ${JSON.stringify(prev.value)}` : ''),
});

type Sut = Awaited<ReturnType<typeof startHarness>>;

const expectStates = (sut: Sut, tags: Set<string>) => {
  const agent = [...tags].find((t) => t.startsWith('agent:'))!.slice(6);
  const user = [...tags].find((t) => t.startsWith('user:'))!.slice(5);
  expect({ agent: sut.session.agentState, user: sut.session.userState }).toEqual({ agent, user });
};

describe('turn-taking model', () => {
  const paths = model.getShortestPaths();
  it('covers every transition of the model', () => {
    const covered = new Set<string>();
    for (const p of paths) {
      p.steps.forEach((step, i) => {
        if (i > 0) covered.add(`${JSON.stringify(p.steps[i - 1]!.state.value)} ${step.event.type}`);
      });
    }
    const all = Object.entries(turnTakingModel.config.states!).flatMap(([name, node]) =>
      Object.keys((node as { on?: object }).on ?? {}).map((ev) => `"${name}" ${ev}`),
    );
    expect(all).toHaveLength(9);
    expect([...covered].sort()).toEqual(all.sort());
  });

  for (const path of paths) {
    it(path.description, async () => {
      const sut = await startHarness({
        llm: [
          { input: 'hello there', content: REPLY, ttft: 200, duration: 400 },
          { input: 'typed', content: REPLY, ttft: 200, duration: 400 },
        ],
        tts: [{ input: REPLY, ttfb: 100, duration: 3000 }],
        session: { userAwayTimeout: null },
      });
      await path.test({
        events: {
          // The user talks for 700 ms: past the 500 ms interruption threshold.
          USER_STARTS: async () => {
            sut.script.startSpeaking();
            await vi.advanceTimersByTimeAsync(700);
          },
          // Commit comes 500 ms after the speech ends; the reply's LLM needs 400 ms more.
          USER_STOPS_WITH_WORDS: async () => {
            sut.script.stopSpeaking('hello there', 100);
            await vi.advanceTimersByTimeAsync(600);
          },
          USER_STOPS_SILENT: async () => {
            sut.script.stopSpeaking('');
            await vi.advanceTimersByTimeAsync(600);
          },
          REPLY_AUDIO_STARTS: () => vi.advanceTimersByTimeAsync(600),
          PLAYOUT_ENDS: () => vi.advanceTimersByTimeAsync(3500),
          TEXT_INPUT: async () => {
            void sut.session.interrupt();
            sut.session.generateReply({ userInput: 'typed' });
            await vi.advanceTimersByTimeAsync(100);
          },
        },
        states: {
          listening: (s) => expectStates(sut, s.tags),
          userSpeaking: (s) => expectStates(sut, s.tags),
          thinking: (s) => expectStates(sut, s.tags),
          speaking: (s) => expectStates(sut, s.tags),
        },
      });
      await sut.session.close();
    });
  }
});
