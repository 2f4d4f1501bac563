/**
 * session.run() over random tool batches and timings (virtual time, fast-check): the run resolves only once the
 * turn is over, and its events are exactly the history's items after the user's input, in the history's order.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, AgentSession, functionTool } from '../src/index.ts';
import { FakeLLM, type RunResult } from '../src/testing/index.ts';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

/** Advances virtual time until `p` settles. */
async function settle<T>(p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 400 && !done; i++) await vi.advanceTimersByTimeAsync(25);
  return p;
}

const scenario = fc.record({
  toolDelays: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 3 }),
  text: fc.boolean(),
  ttft: fc.integer({ min: 0, max: 300 }),
  replyTtft: fc.integer({ min: 0, max: 300 }),
});

describe('session.run() under random tool batches and timings', () => {
  it('resolves once the turn is over; its events are the history after the input, in order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ toolDelays, text, ttft, replyTtft }) => {
        const slow = functionTool({
          name: 'slow',
          description: 'takes a while',
          parameters: z.object({ n: z.number() }),
          execute: async ({ n }) => {
            await new Promise((r) => setTimeout(r, toolDelays[n]));
            return `done ${n}`;
          },
        });
        const k = toolDelays.length;
        const llm = new FakeLLM([
          {
            input: 'Go',
            ...(text || k === 0 ? { content: 'Working on it.' } : {}),
            ...(k ? { toolCalls: toolDelays.map((_, n) => ({ name: 'slow', arguments: { n }, callId: `c${n}` })) } : {}),
            ttft,
            duration: ttft + 50,
          },
          { input: `done ${k - 1}`, content: 'All done.', ttft: replyTtft },
        ]);
        const session = new AgentSession({ llm, tools: [slow] });
        await settle(session.start({ agent: new Agent({ instructions: 'x' }) }));
        const result: RunResult = await settle(session.run({ userInput: 'Go' }));
        // Over: nothing speaking or running, the agent listens again.
        expect(session.currentSpeech?.id ?? null).toBeNull();
        expect(session.agentState).toBe('listening');
        const items = session.history.items;
        const after = items.slice(items.findIndex((i) => i.type === 'message' && i.role === 'user') + 1);
        expect(result.events.map((e) => e.item.id)).toEqual(after.map((i) => i.id));
        // Every call has exactly one output, after it; the tool reply comes last.
        const calls = result.events.filter((e) => e.type === 'function_call');
        expect(calls).toHaveLength(k);
        for (const c of calls) {
          const at = result.events.indexOf(c);
          const outs = result.events.filter((e) => e.type === 'function_call_output' && e.item.callId === c.item.callId);
          expect(outs).toHaveLength(1);
          expect(result.events.indexOf(outs[0]!)).toBeGreaterThan(at);
          result.expect.containsFunctionCallOutput({ output: `done ${c.item.arguments.match(/\d/)![0]}`, isError: false });
        }
        if (k) result.expect.at(-1).isMessage({ content: 'All done.' });
        await settle(session.close());
      }),
      { numRuns: 25, seed: Number(process.env.FUZZ_SEED ?? 7) },
    );
  }, 60_000);
});
