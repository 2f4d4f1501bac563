/**
 * Shrunk counterexamples of the session fuzz (test/fuzz.session.test.ts), replayed deterministically through the
 * same harness. The ones that fail on today's core (issue 8's defects) run only with FUZZ_STRICT=1; once the core
 * fixes land they must pass, and the lead moves them out of the skipped block. Each names the invariant it guards.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatViolation, type InvariantName } from '../src/testing/index.ts';
import type { FuzzScript, ReplySpec, Step } from './helpers/fuzzScript.ts';
import { FUZZ_T0, runFuzzScript } from './helpers/fuzzWorld.ts';

beforeAll(() => {
  vi.useFakeTimers({ now: FUZZ_T0 });
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const reply = (o: Partial<ReplySpec> = {}): ReplySpec => ({ words: 0, ttft: 0, streamMs: 0, tools: [], toolReplyWords: 0, ...o });
const script = (o: Partial<FuzzScript>): FuzzScript => ({ canPause: false, preemptive: false, sttFault: null, llmFaults: [], ttsFaults: [], steps: [], ...o });
/** The user says "u<i> …" for `dur` ms; the STT delivers it `sttDelay` ms after they stop. */
const user = (gap: number, o: { dur?: number; transcript?: boolean; sttDelay?: number; reply?: Partial<ReplySpec> } = {}): Step => ({
  kind: 'user',
  gap,
  dur: o.dur ?? 200,
  transcript: o.transcript ?? true,
  sttDelay: o.sttDelay ?? 0,
  reply: reply(o.reply),
});
const typed = (gap: number, r: Partial<ReplySpec> = {}): Step => ({ kind: 'typed', gap, reply: reply(r) });

/** The formatted violations of `invariant` (all invariants when omitted) when `s` is played. */
async function violations(s: FuzzScript, invariant?: InvariantName): Promise<string[]> {
  const out = await runFuzzScript(s);
  return out.violations.filter((v) => !invariant || v.invariant === invariant).map(formatViolation);
}

describe('fuzz regressions that hold on today’s core', () => {
  it('a plain conversation with tools, a typed turn and a barge-in keeps every invariant', async () => {
    const s = script({
      steps: [
        user(500, { dur: 800, reply: { words: 6, ttft: 300, streamMs: 200, tools: [{ kind: 'slow', ms: 400 }], toolReplyWords: 4 } }),
        typed(9000, { words: 8, ttft: 200 }),
        user(1200, { dur: 900, reply: { words: 3, ttft: 100 } }), // barges into the typed turn's reply
      ],
    });
    expect(await violations(s)).toEqual([]);
  });

  it('tool_outputs: every call in a batch gets exactly one output when the speech is cut while they run', async () => {
    const s = script({
      steps: [
        user(0, { reply: { words: 4, tools: [{ kind: 'slow', ms: 2000 }, { kind: 'crash' }, { kind: 'broken_args' }, { kind: 'unknown_tool' }, { kind: 'tool_error' }] } }),
        user(1000, { dur: 700 }),
      ],
    });
    expect(await violations(s, 'tool_outputs')).toEqual([]);
  });

  it('a handoff returned in the same tool batch as another tool keeps every invariant', async () => {
    const batch = (tools: ReplySpec['tools']) =>
      script({ steps: [user(500, { dur: 500, reply: { words: 3, ttft: 100, streamMs: 100, tools, toolReplyWords: 3 } }), user(6000, { dur: 500, reply: { words: 3 } })] });
    expect(await violations(batch([{ kind: 'ok' }, { kind: 'handoff' }]))).toEqual([]);
    expect(await violations(batch([{ kind: 'handoff' }, { kind: 'slow', ms: 800 }]))).toEqual([]);
  });

  it('user_turns_kept: recognition restarts after the STT stream fails, so a later turn is heard', async () => {
    const s = script({ sttFault: { kind: 'error_mid', afterMs: 500 }, steps: [user(3500, { reply: { words: 2 } })] });
    expect(await violations(s)).toEqual([]);
  });
});

describe('fuzz regressions of issue 8 (fail on today’s core)', () => {
  it('user_turns_kept: an LLM whose chat() throws synchronously does not lose the user message (defect 8)', async () => {
    const s = script({ llmFaults: [{ kind: 'throw_sync' }], steps: [user(3500)] });
    expect(await violations(s, 'user_turns_kept')).toEqual([]);
  });

  it('user_turns_kept: a typed turn survives an LLM whose chat() throws synchronously (defect 8)', async () => {
    const s = script({ llmFaults: [{ kind: 'throw_sync' }], steps: [typed(1859, { words: 3 })] });
    expect(await violations(s, 'user_turns_kept')).toEqual([]);
  });

  it("honest_states: a synchronous chat() failure of a preemptive turn does not wedge the agent in 'thinking' (defect 8)", async () => {
    // Call 0 is the preemptive request, call 1 the turn's own one; it throws, and the typed turn after it never plays.
    const s = script({
      preemptive: true,
      llmFaults: [null, { kind: 'throw_sync' }],
      steps: [
        user(3054, { dur: 1929, sttDelay: 732, reply: { words: 10, ttft: 936, streamMs: 406, tools: [{ kind: 'crash' }] } }),
        { kind: 'interrupt', gap: 3212 },
        typed(700, { words: 8, ttft: 787, streamMs: 274, toolReplyWords: 8 }),
      ],
    });
    expect(await violations(s, 'honest_states')).toEqual([]);
  });

  it('released_on_close: a handoff that completes during close() leaves no speech actor or timer behind (defects 3, 8)', async () => {
    // The wedged speech of the throwing call holds the handoff back until close(); the fenced turn u3 then
    // reaches the new agent's activity while it closes, which creates a speech that is never released.
    const s = script({
      preemptive: true,
      llmFaults: [null, { kind: 'throw_sync' }],
      steps: [
        user(3054, { dur: 1929, sttDelay: 732, reply: { words: 10, ttft: 936, streamMs: 406, tools: [{ kind: 'crash' }] } }),
        { kind: 'interrupt', gap: 3212 },
        typed(700, { words: 8, ttft: 787, streamMs: 274, toolReplyWords: 8 }),
        user(1571, { dur: 2052, sttDelay: 541, reply: { ttft: 1373, streamMs: 667, toolReplyWords: 3 } }),
        { kind: 'update_agent', gap: 417 },
      ],
    });
    expect(await violations(s, 'released_on_close')).toEqual([]);
  });

  it('user_turns_kept: a transcribed turn not yet committed when updateAgent() hands off reaches the new agent (defect 3)', async () => {
    // Final transcript at 900 ms, end of speech at 1150 ms, the turn would commit at 1650 ms; the handoff comes at 1200 ms.
    const s = script({ steps: [user(700), { kind: 'update_agent', gap: 500 }] });
    expect(await violations(s, 'user_turns_kept')).toEqual([]);
  });

  it('user_turns_kept: a turn the user ends during an uninterruptible say() is kept (design question: LiveKit discards such audio)', async () => {
    const s = script({
      steps: [
        user(5711, { dur: 966, sttDelay: 362, reply: { words: 9, ttft: 1009, streamMs: 626 } }),
        { kind: 'say', gap: 703, words: 7, allowInterruptions: false },
      ],
    });
    expect(await violations(s, 'user_turns_kept')).toEqual([]);
  });

  it('user_turns_kept: a recognition stream that simply completes does not leave the session deaf (defect 8)', async () => {
    const s = script({ sttFault: { kind: 'complete_early', afterMs: 500 }, steps: [user(3500)] });
    expect(await violations(s, 'user_turns_kept')).toEqual([]);
  });

  it('interrupt() while an uninterruptible say() plays does not throw synchronously (defect 10)', async () => {
    const out = await runFuzzScript(script({ steps: [{ kind: 'say', gap: 100, words: 8, allowInterruptions: false }, { kind: 'interrupt', gap: 200 }] }));
    expect(out.apiThrows).toEqual([]);
  });

  it('heard_history: a TTS stream that fails after its first frame keeps no unheard word (defect 5)', async () => {
    const s = script({ ttsFaults: [{ kind: 'error_mid', afterItems: 1 }], steps: [user(3500, { reply: { words: 1 } })] });
    expect(await violations(s, 'heard_history')).toEqual([]);
  });

  it('no_talk_over_user: a tool reply does not start playing while the user speaks (defect 4)', async () => {
    // The typed turn's tool fails at once; its tool reply is ready at 200 ms, the user speaks from 195 to 395 ms.
    const s = script({ steps: [typed(0, { tools: [{ kind: 'tool_error' }], toolReplyWords: 1 }), user(195, { sttDelay: 5 })] });
    expect(await violations(s, 'no_talk_over_user')).toEqual([]);
  });

  it('one_speech: two replies authorised around a noise-triggered pause never share the output (defect 2)', async () => {
    const s = script({
      canPause: true,
      steps: [typed(700, { words: 2, ttft: 308, streamMs: 248 }), typed(0, { words: 1 }), user(0, { transcript: false })],
    });
    expect(await violations(s, 'one_speech')).toEqual([]);
  });

  it("honest_states: a tool reply that starts into an output paused by a noise burst is not 'speaking' (defect 6)", async () => {
    // The noise at 2275 ms pauses the (idle) output; the tool reply's audio arrives at 2675 ms into the paused output.
    const s = script({
      canPause: true,
      steps: [
        user(700, { reply: { ttft: 512, streamMs: 363, tools: [{ kind: 'ok' }], toolReplyWords: 1 } }),
        { kind: 'generate', gap: 1575 },
        { kind: 'noise', gap: 0, dur: 155 },
      ],
    });
    expect(await violations(s, 'honest_states')).toEqual([]);
  });

  it('released_on_close: close() resolves in bounded time while a tool never settles (defect 7)', async () => {
    const s = script({ steps: [typed(700, { tools: [{ kind: 'hang' }] })] });
    expect(await violations(s, 'released_on_close')).toEqual([]);
  });
});
