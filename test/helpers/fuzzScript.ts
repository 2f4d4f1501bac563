/** The random conversations the session fuzz plays: plain data (printable, shrinkable, replayable). */
import fc from 'fast-check';
import type { StreamFault } from '../../src/testing/index.ts';

/** What one tool call in an LLM reply does. */
export type ToolSpec =
  | { kind: 'ok' }
  | { kind: 'slow'; ms: number }
  | { kind: 'tool_error' }
  | { kind: 'crash' }
  | { kind: 'hang' }
  | { kind: 'handoff' }
  | { kind: 'broken_args' }
  | { kind: 'unknown_tool' };

export interface ReplySpec {
  /** Words of the reply text (0: a tool-only or empty reply). */
  words: number;
  ttft: number;
  /** ms from ttft to the last chunk. */
  streamMs: number;
  tools: ToolSpec[];
  /** Words of the reply to the tool outputs (only asked when the last tool answers). */
  toolReplyWords: number;
}

/** A barge-in aimed at a phase: after `gap`, the user waits (up to 5 s) until the agent is in it. */
export type Aim = 'thinking' | 'speaking' | 'tools';

export type Step =
  | { kind: 'user'; gap: number; aim?: Aim | null; dur: number; transcript: boolean; sttDelay: number; reply: ReplySpec }
  | { kind: 'noise'; gap: number; aim?: Aim | null; dur: number }
  | { kind: 'typed'; gap: number; reply: ReplySpec }
  | { kind: 'say'; gap: number; words: number; allowInterruptions: boolean }
  | { kind: 'generate'; gap: number }
  | { kind: 'interrupt'; gap: number }
  | { kind: 'update_agent'; gap: number }
  | { kind: 'stall'; gap: number; ms: number };

export interface FuzzScript {
  canPause: boolean;
  preemptive: boolean;
  /** Faults of the LLM / TTS calls, in call order (null: that call is healthy; calls past the end are healthy). */
  llmFaults: Array<StreamFault | null>;
  ttsFaults: Array<StreamFault | null>;
  /** Fault of the first recognition stream. */
  sttFault: StreamFault | null;
  steps: Step[];
}

/** Steps that start a user turn or a speech count as turns; the others are API actions at random moments. */
export const isTurn = (s: Step) => s.kind === 'user' || s.kind === 'noise' || s.kind === 'typed' || s.kind === 'say';

/** Barge-ins aim at phases: soon after a turn (thinking), during speech, during tools, or after a pause. */
const gap = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 700 }) },
  { weight: 4, arbitrary: fc.integer({ min: 700, max: 3500 }) },
  { weight: 2, arbitrary: fc.integer({ min: 3500, max: 9000 }) },
);

const aim: fc.Arbitrary<Aim | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant('thinking' as const) },
  { weight: 2, arbitrary: fc.constant('speaking' as const) },
  { weight: 1, arbitrary: fc.constant('tools' as const) },
);

const tool: fc.Arbitrary<ToolSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'ok' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('slow' as const), ms: fc.integer({ min: 100, max: 4000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'tool_error' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'hang' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'handoff' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'broken_args' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unknown_tool' as const }) },
);

const reply: fc.Arbitrary<ReplySpec> = fc.record({
  words: fc.integer({ min: 0, max: 12 }),
  ttft: fc.integer({ min: 0, max: 1500 }),
  streamMs: fc.integer({ min: 0, max: 800 }),
  tools: fc.oneof({ weight: 3, arbitrary: fc.constant([] as ToolSpec[]) }, { weight: 2, arbitrary: fc.array(tool, { minLength: 1, maxLength: 3 }) }),
  toolReplyWords: fc.integer({ min: 0, max: 8 }),
});

const streamFault: fc.Arbitrary<StreamFault> = fc.oneof(
  fc.record({ kind: fc.constant('error_before' as const), afterMs: fc.integer({ min: 0, max: 800 }) }),
  fc.record({ kind: fc.constant('error_mid' as const), afterItems: fc.integer({ min: 1, max: 120 }) }),
  fc.record({ kind: fc.constant('delay' as const), ms: fc.integer({ min: 100, max: 3000 }) }),
  fc.constant({ kind: 'throw_sync' as const }),
);

const faults = (weightNone: number) => fc.array(fc.oneof({ weight: weightNone, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: streamFault }), { maxLength: 10 });

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('user' as const),
      gap,
      aim,
      dur: fc.integer({ min: 200, max: 2500 }),
      transcript: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      sttDelay: fc.integer({ min: 0, max: 900 }),
      reply,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('noise' as const), gap, aim, dur: fc.integer({ min: 100, max: 1500 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('typed' as const), gap, reply }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('say' as const), gap, words: fc.integer({ min: 1, max: 10 }), allowInterruptions: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('generate' as const), gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('interrupt' as const), gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('update_agent' as const), gap }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stall' as const), gap, ms: fc.integer({ min: 100, max: 2000 }) }) },
);

export const fuzzScript = (turns: { min: number; max: number }): fc.Arbitrary<FuzzScript> =>
  fc.record({
    canPause: fc.boolean(),
    preemptive: fc.boolean(),
    llmFaults: faults(5),
    ttsFaults: faults(5),
    sttFault: fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('complete_early' as const), afterMs: fc.integer({ min: 500, max: 20_000 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('error_mid' as const), afterMs: fc.integer({ min: 500, max: 20_000 }) }) },
    ),
    steps: fc.array(step, { minLength: turns.min, maxLength: turns.max }),
  });

/** A compact one-line-per-step rendering for reports. */
export function describeScript(s: FuzzScript): string {
  const lines = [
    `output ${s.canPause ? 'pausable' : 'not pausable'}, preemptive ${s.preemptive}, sttFault ${JSON.stringify(s.sttFault)}`,
    `llmFaults ${JSON.stringify(s.llmFaults)}`,
    `ttsFaults ${JSON.stringify(s.ttsFaults)}`,
  ];
  for (const st of s.steps) lines.push(JSON.stringify(st));
  return lines.join('\n');
}
