import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { functionTool } from '../src/index.ts';
import { startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

/** Small deterministic PRNG so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const REPLY = 'Alpha bravo charlie delta echo foxtrot golf hotel india juliet.';

describe('invariants', () => {
  it('every tool call gets exactly one output, even when the speech is cut while tools run', async () => {
    const slow = functionTool({
      name: 'slow',
      description: 'takes 3 s',
      execute: () => new Promise((r) => setTimeout(() => r('slow result'), 3000)),
    });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'do it' }, { start: 1500, end: 2200, transcript: 'cancel that' }],
      llm: [
        { input: 'do it', content: 'Working on it now, please wait a little while.', toolCalls: [{ name: 'slow', arguments: {} }, { name: 'slow', arguments: {} }] },
        { input: 'cancel that', content: 'Cancelled.' },
        { input: 'slow result', content: 'Should not be asked.' },
      ],
      tts: [{ input: 'Working on it now, please wait a little while.', duration: 3000 }],
      session: { tools: [slow] },
    });
    await h.at(8000);
    const calls = h.session.history.items.filter((i) => i.type === 'function_call');
    const outs = h.session.history.items.filter((i) => i.type === 'function_call_output');
    expect(calls).toHaveLength(2);
    expect(outs.map((o) => o.callId).sort()).toEqual(calls.map((c) => c.callId).sort());
    expect(h.rec.of('function_tools_executed')).toHaveLength(1);
    // The interrupted speech asks for no tool reply.
    expect(h.llm.requests.map((r) => r.key)).toEqual(['do it', 'cancel that']);
    await h.session.close();
  });

  it('the history never holds words that were not played (random barge-in times)', async () => {
    const rand = rng(42);
    for (let run = 0; run < 25; run++) {
      const bargeAt = 2000 + Math.floor(rand() * 4500); // reply audio plays 2000..6000
      const canPause = rand() < 0.5;
      const h = await startHarness({
        utterances: [
          { start: 0, end: 1000, transcript: 'Hello', sttDelay: 100 },
          { start: bargeAt, end: bargeAt + 900, transcript: 'wait', sttDelay: 100 },
        ],
        llm: [{ input: 'Hello', content: REPLY, ttft: 200, duration: 400 }, { input: 'wait', content: 'Yes?' }],
        tts: [{ input: REPLY, ttfb: 100, duration: 4000 }],
        canPause,
      });
      await h.at(12000);
      const first = h.output.segments[0]!;
      const msg = h.session.history.messages().find((m) => m.role === 'assistant')!;
      if (first.interrupted) {
        const said = msg ? msg.content.join(' ') : '';
        expect(REPLY.startsWith(said), `run ${run}: "${said}" is not a prefix`).toBe(true);
        // Without word timings from the TTS, a word sits in the audio at its characters' share of the text; it counts as heard
        // once its middle has played. The last kept word must satisfy that.
        if (said) {
          const lastStart = said.lastIndexOf(' ') + 1;
          const middle = (lastStart + said.length) / 2 / REPLY.length;
          expect(middle * first.pushedMs, `run ${run}: "${said}" at ${first.playedMs} ms`).toBeLessThanOrEqual(first.playedMs);
        }
        if (msg) expect(msg.interrupted).toBe(true);
      } else {
        expect(msg.content.join(' ')).toBe(REPLY);
      }
      await h.session.close();
    }
  });

  it('speech actors reuse a bounded set of XState ids (a fresh id per speech grows XState caches for good)', async () => {
    const h = await startHarness({ tts: [] });
    const sequential: string[] = [];
    for (let i = 0; i < 12; i++) {
      const s = h.session.say(`Line ${i}.`);
      sequential.push(s.actor.id);
      const done = s.waitForPlayout();
      await h.at(h.now() + 2000);
      await done;
    }
    expect(new Set(sequential)).toEqual(new Set(['speech#0']));
    // Alive at once: distinct ids, and the handles keep their own unique ids.
    const a = h.session.say('One.');
    const b = h.session.say('Two.');
    expect(a.actor.id).not.toBe(b.actor.id);
    expect(new Set([a.id, b.id, ...sequential]).size).toBe(3);
    await h.at(h.now() + 5000);
    await h.session.close();
  });

  it('after close() no timer, subscription or actor is left', async () => {
    const slow = functionTool({ name: 'slow', description: '', execute: () => new Promise((r) => setTimeout(() => r('x'), 60_000)) });
    const h = await startHarness({
      utterances: [{ start: 0, end: 1000, transcript: 'Hello' }, { start: 5000, end: 9000, transcript: 'more' }],
      llm: [{ input: 'Hello', content: REPLY, toolCalls: [{ name: 'slow', arguments: {} }], ttft: 200, duration: 400 }],
      tts: [{ input: REPLY, duration: 4000 }],
      session: { tools: [slow], userAwayTimeout: 5000 },
    });
    await h.at(3000); // mid-speech, tool running, user about to speak
    const activity = (h.session as any).activity;
    const handles = [...activity.handles.values()];
    expect(handles.length).toBeGreaterThan(0);
    const closing = h.session.close();
    await vi.advanceTimersByTimeAsync(61_000); // the tool is awaited, not abandoned
    await closing;
    expect(h.session.lifecycle).toBe('closed');
    expect(h.rec.of('close').map((e) => e.reason)).toEqual(['user_initiated']);
    expect(h.script.listenerCount).toBe(0);
    expect(activity.actor.getSnapshot().status).toBe('stopped');
    expect(activity.userTurn.getSnapshot().status).toBe('stopped');
    expect(handles.every((x: any) => x.done())).toBe(true);
    expect(activity.handles.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const outs = h.session.history.items.filter((i) => i.type === 'function_call_output');
    expect(outs).toHaveLength(1);
  });
});
