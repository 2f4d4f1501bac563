/**
 * Assertions over a run's events: a cursor (`nextEvent`, `skipNext`, `noMoreEvents`), indexing (`at`), searches
 * (`range(...).contains*`, `contains*`) and an LLM judge on messages. A failure throws a RunAssertionError whose
 * message says what was expected and lists the run's events with the one in question marked.
 */
import type { Agent } from '../agent.ts';
import type { ChatRole } from '../llm/chatContext.ts';
import type { LLM } from '../providers/types.ts';
import { decodeArguments } from '../session/toolExecution.ts';
import { JudgeError, judgeMessage } from './judge.ts';
import {
  describeEvent,
  formatEvents,
  type AgentHandoffEvent,
  type FunctionCallEvent,
  type FunctionCallOutputEvent,
  type ChatMessageEvent,
  type RunEvent,
  type RunEventType,
} from './runEvents.ts';

export interface MessageExpectation {
  role?: ChatRole;
  /** The whole text (trimmed) equals this string, or matches this RegExp. */
  content?: string | RegExp;
}
export interface FunctionCallExpectation {
  name?: string;
  /** A partial deep match: every key given must be present with a matching value; others are ignored. */
  arguments?: Record<string, unknown>;
  /** The same as `arguments` (LiveKit's name). */
  args?: Record<string, unknown>;
}
export interface FunctionCallOutputExpectation {
  output?: string | RegExp;
  isError?: boolean;
}
export interface AgentHandoffExpectation {
  /** The class of the new agent (an `instanceof` check). */
  newAgentType?: abstract new (...args: any[]) => Agent;
  newAgentId?: string;
}

/** A failed expectation. Named `AssertionError` so test runners show it as one. */
export class RunAssertionError extends Error {
  override name = 'AssertionError';
  constructor(
    message: string,
    readonly events: readonly RunEvent[],
    readonly index: number | undefined,
  ) {
    super(message);
  }
}

export class RunExpect {
  private index = 0;

  constructor(readonly events: readonly RunEvent[]) {}

  /** Throws a RunAssertionError about the event at `index` (the cursor's by default). */
  fail(message: string, index: number | undefined = this.index): never {
    throw new RunAssertionError(`${message}\nEvents of this run:\n${formatEvents(this.events, index)}`, this.events, index);
  }

  /** The next event; with a type, the next event of that type (events of other types are passed over). */
  nextEvent(type: 'message' | { type: 'message' }): MessageAssert;
  nextEvent(type: 'function_call' | { type: 'function_call' }): FunctionCallAssert;
  nextEvent(type: 'function_call_output' | { type: 'function_call_output' }): FunctionCallOutputAssert;
  nextEvent(type: 'agent_handoff' | { type: 'agent_handoff' }): AgentHandoffAssert;
  nextEvent(type?: RunEventType | { type?: RunEventType }): EventAssert;
  nextEvent(type?: RunEventType | { type?: RunEventType }): EventAssert | MatchedEvent<RunEvent> {
    const wanted = typeof type === 'object' ? type.type : type;
    const from = this.index;
    for (;;) {
      if (this.index >= this.events.length) {
        if (wanted) this.fail(`expected an event of type ${wanted} from [${from}] on, but there is none`);
        this.fail(from === 0 ? 'expected an event, but this run has none' : `expected another event after [${from - 1}], but there is none`);
      }
      const i = this.index++;
      if (wanted && this.events[i]!.type !== wanted) continue;
      const ev = new EventAssert(this.events[i]!, this, i);
      if (wanted === 'message') return ev.isMessage();
      if (wanted === 'function_call') return ev.isFunctionCall();
      if (wanted === 'function_call_output') return ev.isFunctionCallOutput();
      if (wanted === 'agent_handoff') return ev.isAgentHandoff();
      return ev;
    }
  }

  /** The event at `index` (negative counts from the end); does not move the cursor. */
  at(index: number): EventAssert {
    const i = index < 0 ? this.events.length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.events.length) this.fail(`expected an event at index ${index}, but the run has ${this.events.length}`, undefined);
    return new EventAssert(this.events[i]!, this, i);
  }

  /** Passes over `count` events without checking them. */
  skipNext(count = 1): this {
    const left = this.events.length - this.index;
    if (left < count) this.fail(`expected ${count} more event(s) to skip, but only ${left} left`);
    this.index += count;
    return this;
  }

  /** Every event has been checked (or skipped). */
  noMoreEvents(): void {
    if (this.index < this.events.length) {
      const left = this.events.length - this.index;
      this.fail(`expected no more events, but ${left} more: the next is ${describeEvent(this.events[this.index]!)}`);
    }
  }

  /** Events `start` (inclusive) to `end` (exclusive), as `Array.slice` takes them, for `contains*` searches. */
  range(start = 0, end = this.events.length): EventRangeAssert {
    const n = this.events.length;
    const s = Math.max(0, start < 0 ? n + start : Math.min(start, n));
    const e = Math.max(s, end < 0 ? n + end : Math.min(end, n));
    return new EventRangeAssert(this, s, e);
  }

  containsMessage(o: MessageExpectation = {}): MessageAssert {
    return this.range().containsMessage(o);
  }
  containsFunctionCall(o: FunctionCallExpectation = {}): FunctionCallAssert {
    return this.range().containsFunctionCall(o);
  }
  containsFunctionCallOutput(o: FunctionCallOutputExpectation = {}): FunctionCallOutputAssert {
    return this.range().containsFunctionCallOutput(o);
  }
  containsAgentHandoff(o: AgentHandoffExpectation = {}): AgentHandoffAssert {
    return this.range().containsAgentHandoff(o);
  }
}

/** One event, to be asserted to be of some kind. */
export class EventAssert {
  constructor(
    private readonly ev: RunEvent,
    private readonly parent: RunExpect,
    readonly index: number,
  ) {}

  event(): RunEvent {
    return this.ev;
  }

  isMessage(o: MessageExpectation = {}): MessageAssert {
    return new MessageAssert(this.check(o, expectMessage, 'message'), this.parent, this.index);
  }
  isFunctionCall(o: FunctionCallExpectation = {}): FunctionCallAssert {
    return new MatchedEvent(this.check(o, expectCall, 'function_call'), this.parent, this.index);
  }
  isFunctionCallOutput(o: FunctionCallOutputExpectation = {}): FunctionCallOutputAssert {
    return new MatchedEvent(this.check(o, expectOutput, 'function_call_output'), this.parent, this.index);
  }
  isAgentHandoff(o: AgentHandoffExpectation = {}): AgentHandoffAssert {
    return new MatchedEvent(this.check(o, expectHandoff, 'agent_handoff'), this.parent, this.index);
  }

  private check<O, T extends RunEventType>(o: O, matcher: Matcher<O, Extract<RunEvent, { type: T }>>, type: T): Extract<RunEvent, { type: T }> {
    const problem = mismatch(this.ev, o, matcher, type);
    if (problem) this.parent.fail(`expected event [${this.index}] to be ${matcher.describe(o)}, but ${problem}`, this.index);
    return this.ev as Extract<RunEvent, { type: T }>;
  }
}

/** An event that passed its check: `event()` gives it, typed. */
export class MatchedEvent<E extends RunEvent> {
  constructor(
    protected readonly ev: E,
    protected readonly parent: RunExpect,
    readonly index: number,
  ) {}
  event(): E {
    return this.ev;
  }
}

export type FunctionCallAssert = MatchedEvent<FunctionCallEvent>;
export type FunctionCallOutputAssert = MatchedEvent<FunctionCallOutputEvent>;
export type AgentHandoffAssert = MatchedEvent<AgentHandoffEvent>;

export class MessageAssert extends MatchedEvent<ChatMessageEvent> {
  /**
   * Asks `llm` whether this message fulfils `intent`; fails with the judge's reason when it does not. Resolves to
   * this assertion (for chaining); rejects with a JudgeError when the judge gives no usable verdict.
   */
  async judge(llm: LLM, opts: { intent: string }): Promise<this> {
    const text = this.ev.item.content.join('\n');
    if (!text.trim()) this.parent.fail(`cannot judge event [${this.index}]: the message is empty`, this.index);
    let verdict;
    try {
      verdict = await judgeMessage(llm, text, opts?.intent);
    } catch (e) {
      if (!(e instanceof JudgeError)) throw e;
      throw new JudgeError(`judge() of event [${this.index}]: ${e.message}\nEvents of this run:\n${formatEvents(this.parent.events, this.index)}`, { cause: e });
    }
    if (!verdict.success) this.parent.fail(`event [${this.index}] does not fulfil the intent ${JSON.stringify(opts.intent)}: ${verdict.reason}`, this.index);
    return this;
  }
}

/** Events `start` to `end` of a run, searched by `contains*` for one that matches. */
export class EventRangeAssert {
  constructor(
    private readonly parent: RunExpect,
    readonly start: number,
    readonly end: number,
  ) {}

  containsMessage(o: MessageExpectation = {}): MessageAssert {
    const i = this.find(o, expectMessage, 'message');
    return new MessageAssert(this.parent.events[i] as ChatMessageEvent, this.parent, i);
  }
  containsFunctionCall(o: FunctionCallExpectation = {}): FunctionCallAssert {
    const i = this.find(o, expectCall, 'function_call');
    return new MatchedEvent(this.parent.events[i] as FunctionCallEvent, this.parent, i);
  }
  containsFunctionCallOutput(o: FunctionCallOutputExpectation = {}): FunctionCallOutputAssert {
    const i = this.find(o, expectOutput, 'function_call_output');
    return new MatchedEvent(this.parent.events[i] as FunctionCallOutputEvent, this.parent, i);
  }
  containsAgentHandoff(o: AgentHandoffExpectation = {}): AgentHandoffAssert {
    const i = this.find(o, expectHandoff, 'agent_handoff');
    return new MatchedEvent(this.parent.events[i] as AgentHandoffEvent, this.parent, i);
  }

  private find<O, T extends RunEventType>(o: O, matcher: Matcher<O, Extract<RunEvent, { type: T }>>, type: T): number {
    for (let i = this.start; i < this.end; i++) if (!mismatch(this.parent.events[i]!, o, matcher, type)) return i;
    const where = this.start === 0 && this.end === this.parent.events.length ? 'the run' : `events [${this.start}, ${this.end})`;
    return this.parent.fail(`expected ${where} to contain ${matcher.describe(o)}, but none matches`, undefined);
  }
}

// ---------------------------------------------------------------- matchers

interface Matcher<O, E extends RunEvent> {
  describe(o: O): string;
  /** Why `e` does not match, or null. */
  problem(e: E, o: O): string | null;
}

function mismatch<O, T extends RunEventType>(ev: RunEvent, o: O, m: Matcher<O, Extract<RunEvent, { type: T }>>, type: T): string | null {
  if (ev.type !== type) return `it is: ${describeEvent(ev)}`;
  return m.problem(ev as Extract<RunEvent, { type: T }>, o ?? ({} as O));
}

const show = (v: unknown) => (v instanceof RegExp ? String(v) : JSON.stringify(v) ?? String(v));
const details = (parts: Array<string | false | undefined>) => {
  const given = parts.filter(Boolean);
  return given.length ? ` (${given.join(', ')})` : '';
};
const textMatches = (want: string | RegExp, got: string) => (typeof want === 'string' ? got.trim() === want.trim() : ((want.lastIndex = 0), want.test(got)));

const expectMessage: Matcher<MessageExpectation, ChatMessageEvent> = {
  describe: (o) => `a message${details([o.role && `role ${o.role}`, o.content !== undefined && `content ${show(o.content)}`])}`,
  problem: (e, o) => {
    if (o.role && e.item.role !== o.role) return `its role is ${e.item.role}`;
    const text = e.item.content.join('\n');
    if (o.content !== undefined && !textMatches(o.content, text)) return `its content is ${show(text)}`;
    return null;
  },
};

const expectCall: Matcher<FunctionCallExpectation, FunctionCallEvent> = {
  describe: (o) => `a function call${details([o.name && `name ${o.name}`, (o.arguments ?? o.args) && `arguments ${show(o.arguments ?? o.args)}`])}`,
  problem: (e, o) => {
    if (o.name !== undefined && e.item.name !== o.name) return `it calls ${e.item.name}(${e.item.arguments})`;
    const want = o.arguments ?? o.args;
    if (want === undefined) return null;
    let got: Record<string, unknown>;
    try {
      got = decodeArguments(e.item.arguments);
    } catch (err) {
      return `its arguments ${show(e.item.arguments)} are not a JSON object (${(err as Error).message})`;
    }
    const diff = partialMismatch(want, got, 'arguments');
    return diff && `${diff} (it was called with ${e.item.arguments})`;
  },
};

const expectOutput: Matcher<FunctionCallOutputExpectation, FunctionCallOutputEvent> = {
  describe: (o) => `a function call output${details([o.output !== undefined && `output ${show(o.output)}`, o.isError !== undefined && `isError ${o.isError}`])}`,
  problem: (e, o) => {
    if (o.output !== undefined && !textMatches(o.output, e.item.output)) return `its output is ${show(e.item.output)}`;
    if (o.isError !== undefined && e.item.isError !== o.isError) return `its isError is ${e.item.isError} (output ${show(e.item.output)})`;
    return null;
  },
};

const expectHandoff: Matcher<AgentHandoffExpectation, AgentHandoffEvent> = {
  describe: (o) => `an agent handoff${details([o.newAgentType && `to a ${o.newAgentType.name}`, o.newAgentId && `to agent id ${o.newAgentId}`])}`,
  problem: (e, o) => {
    if (o.newAgentType && !(e.newAgent instanceof o.newAgentType)) return `the new agent is a ${(e.newAgent as Agent).constructor.name}`;
    if (o.newAgentId !== undefined && e.newAgent.id !== o.newAgentId) return `the new agent's id is ${e.newAgent.id}`;
    return null;
  },
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegExp);

/** Where `actual` departs from `expected`: objects match on the keys given, arrays element by element. */
export function partialMismatch(expected: unknown, actual: unknown, path: string): string | null {
  if (expected instanceof RegExp) {
    return typeof actual === 'string' && ((expected.lastIndex = 0), expected.test(actual)) ? null : `${path}: expected a string matching ${expected}, got ${show(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: expected ${show(expected)}, got ${show(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const d = partialMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return `${path}: expected an object, got ${show(actual)}`;
    for (const [k, v] of Object.entries(expected)) {
      if (!(k in actual)) return `${path}.${k}: missing`;
      const d = partialMismatch(v, actual[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : `${path}: expected ${show(expected)}, got ${show(actual)}`;
}
