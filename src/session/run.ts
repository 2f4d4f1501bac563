/**
 * `session.run({ userInput })`: one user turn in text mode, for tests. The turn is an ordinary `generateReply`;
 * what it did is read from the session's own events: `speech_created` (the speeches the turn caused: the reply,
 * speeches its tools or a new agent's `onEnter` started), `conversation_item_added` (messages, handoffs) and
 * `function_tools_executed` (calls and outputs). The run is over when those speeches are done, no handoff is under
 * way and the onEnter of an agent it handed off to has returned; its events are the items of its speeches and its
 * handoffs, in the order of the session history.
 */
import type { AnyActorRef } from 'xstate';
import type { Agent } from '../agent.ts';
import type { AudioInput } from '../io/types.ts';
import type { ChatContext, ChatItem } from '../llm/chatContext.ts';
import { RunError, RunResult } from '../testing/runResult.ts';
import type { RunEvent } from '../testing/runEvents.ts';
import type { Listener } from './eventBus.ts';
import type { AgentSessionEventType } from './events.ts';
import type { SpeechHandle } from './speechHandle.ts';

export interface RunOptions {
  /** The user's turn, as text. */
  userInput: string;
}

/** A run under way: await it (or its `wait()`, as LiveKit's API spells it) for the RunResult. */
export type PendingRun = Promise<RunResult> & { wait(): Promise<RunResult> };

/** What a run needs of the session (an interface, so this module does not import the session's). */
export interface RunHost {
  readonly lifecycle: string;
  readonly history: ChatContext;
  readonly input: { audio: AudioInput | null };
  readonly currentAgent: Agent;
  readonly _rootActor: AnyActorRef;
  on<T extends AgentSessionEventType>(type: T, fn: Listener<T>): unknown;
  off<T extends AgentSessionEventType>(type: T, fn: Listener<T>): unknown;
  generateReply(opts: { userInput?: string }): SpeechHandle;
}

/** The current agent's activity, as far as a run needs it. */
export type RunActivity = { hooksSettled(): Promise<void> } | null;

const running = new WeakSet<object>();

export function runTurn(session: RunHost, opts: RunOptions, activity: () => RunActivity): PendingRun {
  const p = startRun(session, opts, activity);
  return Object.assign(p, { wait: () => p });
}

async function startRun(session: RunHost, opts: RunOptions, activity: () => RunActivity): Promise<RunResult> {
  if (typeof opts?.userInput !== 'string') throw new TypeError('session.run() needs { userInput: string }');
  if (session.lifecycle !== 'running') throw new Error(`session.run() needs a running session (it is ${session.lifecycle}): await session.start({ agent }) first`);
  if (session.input.audio) throw new Error('session.run() works in text mode: the session must have no audio input (set session.input.audio = null)');
  if (running.has(session)) throw new Error('session.run(): another run of this session is still under way; await it before the next');
  running.add(session);
  const rec = new RunRecorder(session);
  try {
    rec.track(session.generateReply({ userInput: opts.userInput }));
    await rec.settled(activity);
    const failed = rec.speeches().find((h) => h.error);
    if (failed) throw new RunError(`session.run(): the reply failed: ${failed.error!.message}`, rec.events(), { cause: failed.error });
    return new RunResult(opts.userInput, rec.events());
  } finally {
    rec.stop();
    running.delete(session);
  }
}

/** Collects, from the session's events, what the run's speeches did; settles when the turn is over. */
class RunRecorder {
  private readonly tracked = new Set<SpeechHandle>();
  private readonly items = new Map<string, ChatItem>();
  private readonly handoffs = new Map<string, { oldAgent: Agent | null; newAgent: Agent }>();
  private agent: Agent;
  private closed: (reason: string) => void = () => {};
  private readonly closedP = new Promise<never>((_, reject) => (this.closed = (reason) => reject(new RunError(`session.run(): the session closed during the run (${reason})`, this.events()))));
  private readonly off: Array<() => void> = [];

  constructor(private readonly session: RunHost) {
    this.agent = session.currentAgent;
    void this.closedP.catch(() => undefined); // awaited only while settling
    this.listen('speech_created', (e) => this.track(e.speechHandle));
    this.listen('conversation_item_added', (e) => {
      if (e.item.type === 'agent_handoff') {
        // The session makes the new agent current before it records the handoff.
        const newAgent = session.currentAgent;
        this.handoffs.set(e.item.id, { oldAgent: this.agent, newAgent });
        this.agent = newAgent;
      }
      this.items.set(e.item.id, e.item);
    });
    this.listen('function_tools_executed', (e) => {
      for (const item of [...e.functionCalls, ...e.functionCallOutputs]) this.items.set(item.id, item);
    });
    // The session machine leaves `running` as soon as a close begins (its `close` event comes after the teardown).
    const sub = session._rootActor.subscribe((snap: { matches(v: string): boolean; context: { closeReason?: string | null } }) => {
      if (!snap.matches('running')) this.closed(snap.context.closeReason ?? 'closed');
    });
    this.off.push(() => sub.unsubscribe());
  }

  private listen<T extends AgentSessionEventType>(type: T, fn: Listener<T>): void {
    this.session.on(type, fn);
    this.off.push(() => this.session.off(type, fn));
  }

  track(h: SpeechHandle): void {
    this.tracked.add(h);
  }

  speeches(): SpeechHandle[] {
    return [...this.tracked];
  }

  /** Waits until every speech of the run is done, no handoff runs and a new agent's onEnter has returned. */
  async settled(activity: () => RunActivity): Promise<void> {
    const handingOff = (s: { matches(v: unknown): boolean }) => s.matches({ running: { agent: 'handingOff' } });
    for (;;) {
      const pending = this.speeches().filter((h) => !h.done());
      if (pending.length) {
        await Promise.race([Promise.all(pending.map((h) => h.waitForPlayout())), this.closedP]);
        continue;
      }
      const root = this.session._rootActor;
      if (handingOff(root.getSnapshot())) {
        await Promise.race([until(root, (s) => !handingOff(s)), this.closedP]);
        continue;
      }
      // After a handoff, the new agent's onEnter may speak after an await: wait for it (only for agents this run
      // brought in: a hook from before the run, however long it takes, is not the run's).
      const hooks = this.handoffs.size ? activity()?.hooksSettled() : undefined;
      if (!hooks) return;
      const before = this.tracked.size;
      await Promise.race([hooks, this.closedP]);
      if (this.tracked.size === before && !handingOff(root.getSnapshot())) return;
    }
  }

  /** The run's items: those of its speeches (so not the user's input, nor an earlier speech's) and its handoffs. */
  events(): RunEvent[] {
    const own = new Set<string>(this.handoffs.keys());
    for (const h of this.tracked) for (const item of h.chatItems) own.add(item.id);
    const order = new Map(this.session.history.items.map((item, i) => [item.id, i]));
    const items = [...this.items.values()].filter((item) => own.has(item.id));
    items.sort((a, b) => (order.get(a.id) ?? Infinity) - (order.get(b.id) ?? Infinity));
    return items.flatMap((item): RunEvent[] => {
      switch (item.type) {
        case 'message':
          return [{ type: 'message', item }];
        case 'function_call':
          return [{ type: 'function_call', item }];
        case 'function_call_output':
          return [{ type: 'function_call_output', item }];
        case 'agent_handoff':
          return [{ type: 'agent_handoff', item, ...this.handoffs.get(item.id)! }];
        default:
          return [];
      }
    });
  }

  stop(): void {
    for (const off of this.off) off();
  }
}

function until(actor: AnyActorRef, pred: (s: { matches(v: unknown): boolean }) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const sub = actor.subscribe((s: { matches(v: unknown): boolean }) => {
      if (pred(s)) {
        sub.unsubscribe();
        resolve();
      }
    });
    if (pred(actor.getSnapshot())) {
      sub.unsubscribe();
      resolve();
    }
  });
}
