/** AgentTask through a real AgentSession on the testing kit's fakes, in virtual time. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, AgentTask, AgentTaskClosedError, functionTool, type ChatItem } from '../src/index.ts';
import type { InspectionEvent } from 'xstate';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

/** Asks for the email and completes with what `record_email` gets (or fails when `refuse_email` is called). */
class CollectEmail extends AgentTask<string> {
  constructor(readonly greeting = 'What is your email?') {
    super({
      instructions: 'collect the email',
      tools: [
        functionTool({
          name: 'record_email',
          description: 'records the email',
          parameters: z.object({ email: z.string() }),
          execute: ({ email }) => this.complete(email),
        }),
        functionTool({ name: 'refuse_email', description: 'the user will not say', execute: () => this.complete(new Error('no email given')) }),
      ],
    });
  }
  override onEnter() {
    this.session.say(this.greeting);
  }
}

/** The instructions (first system message) each LLM request was made with: whose context answered. */
const askedBy = (h: Awaited<ReturnType<typeof startHarness>>) =>
  h.llm.requests.map((r) => {
    const sys = r.items.find((i: ChatItem) => i.type === 'message' && i.role === 'system');
    return sys && sys.type === 'message' ? sys.content.join('') : '?';
  });

const registerTool = (sink: string[], errors: string[] = []) =>
  functionTool({
    name: 'register',
    description: 'registers the user',
    execute: async () => {
      try {
        const email = await new CollectEmail();
        sink.push(email);
        return `registered ${email}`;
      } catch (e) {
        errors.push(`${(e as Error).name}: ${(e as Error).message}`);
        return `failed: ${(e as Error).message}`;
      }
    },
  });

describe('AgentTask from a tool', () => {
  it('takes the conversation, returns its typed result to the tool, then the caller answers again', async () => {
    const emails: string[] = [];
    const h = await startHarness({
      utterances: [
        { start: 0, end: 500, transcript: 'sign me up' },
        { start: 4000, end: 5000, transcript: 'it is a@b.c' },
        { start: 12000, end: 12500, transcript: 'thanks' },
      ],
      llm: [
        { input: 'sign me up', content: 'Sure.', toolCalls: [{ name: 'register', arguments: {} }] },
        { input: 'it is a@b.c', toolCalls: [{ name: 'record_email', arguments: { email: 'a@b.c' } }] },
        { input: 'registered a@b.c', content: 'You are registered.' },
        { input: 'thanks', content: 'Welcome.' },
      ],
      tts: [{ input: 'Sure.', duration: 1000 }],
      session: { tools: [registerTool(emails)] },
    });
    await h.at(3000);
    // While the task runs it is the current agent, and the session machine shows it on its stack.
    expect(h.session.currentAgent).toBeInstanceOf(CollectEmail);
    const snap = (h.session._rootActor as any).getSnapshot();
    expect(snap.value).toMatchObject({ running: { agent: 'inTask' } });
    expect(snap.context.taskStack).toEqual([{ agent: 'task_1', id: 'collect_email', status: 'running', error: null }]);
    expect(JSON.parse(JSON.stringify(snap.context))).toEqual(snap.context);
    // The task's activity is a child of the session actor like any agent's; the caller's is paused, not stopped.
    const stack = (h.session as any).stack;
    expect(stack.current.actor._parent).toBe(h.session._rootActor);
    expect(stack.paused[0].actor.getSnapshot()).toMatchObject({ status: 'active', context: { suspended: { acceptingTurns: true } } });
    await h.at(16000);
    expect(emails).toEqual(['a@b.c']);
    expect(h.session.currentAgent).toBe(h.agent);
    expect((h.session._rootActor as any).getSnapshot().value).toMatchObject({ running: { agent: 'active' } });
    expect(askedBy(h)).toEqual(['You are a test agent.', 'collect the email', 'You are a test agent.', 'You are a test agent.']);
    expect(historyText(h.session)).toEqual([
      'handoff - -> default_agent',
      'user: sign me up',
      'assistant: Sure.',
      'call register({})',
      'handoff default_agent -> collect_email',
      'assistant: What is your email?',
      'user: it is a@b.c',
      'call record_email({"email":"a@b.c"})',
      'output record_email: ',
      'handoff collect_email -> default_agent',
      'output register: registered a@b.c',
      'assistant: You are registered.',
      'user: thanks',
      'assistant: Welcome.',
    ]);
    // The task started from the caller's context, and its messages (not its own tool calls) came back.
    const task = h.llm.requests[1]!.items.map((i: ChatItem) => (i.type === 'message' ? `${i.role}: ${i.content.join('')}` : i.type));
    expect(task).toEqual(['system: collect the email', 'agent_handoff', 'user: sign me up', 'assistant: Sure.', 'agent_handoff', 'assistant: What is your email?', 'user: it is a@b.c']);
    const callerItems = h.agent.chatCtx.items.map((i) => (i.type === 'function_call' || i.type === 'function_call_output' ? `${i.type} ${i.name}` : i.type === 'message' ? i.content.join('') : i.type));
    expect(callerItems).not.toContain('function_call record_email');
    expect(callerItems).toContain('What is your email?');
    expect(callerItems).toContain('it is a@b.c');
    // The caller's speech (waiting for its tool) stayed silent while the task spoke: one speech at a time.
    const segs = h.output.segments;
    expect(segs).toHaveLength(4);
    for (let i = 1; i < segs.length; i++) expect(segs[i]!.startedAt).toBeGreaterThanOrEqual(segs[i - 1]!.startedAt + segs[i - 1]!.playedMs);
    await h.session.close();
  });

  it('a task that fails rejects the await with its error; the caller goes on', async () => {
    const errors: string[] = [];
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'sign me up' }, { start: 4000, end: 5000, transcript: 'no way' }],
      llm: [
        { input: 'sign me up', toolCalls: [{ name: 'register', arguments: {} }] },
        { input: 'no way', toolCalls: [{ name: 'refuse_email', arguments: {} }] },
        { input: 'failed: no email given', content: 'No problem.' },
      ],
      session: { tools: [registerTool([], errors)] },
    });
    await h.at(12000);
    expect(errors).toEqual(['Error: no email given']);
    expect(h.session.currentAgent).toBe(h.agent);
    expect(historyText(h.session).slice(-2)).toEqual(['output register: failed: no email given', 'assistant: No problem.']);
    await h.session.close();
  });

  it('the user interrupts the caller before the task took over: the task is cancelled and never speaks', async () => {
    const errors: string[] = [];
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'sign me up' }, { start: 2000, end: 2800, transcript: 'no wait' }],
      llm: [
        { input: 'sign me up', content: 'Sure, let me set up your account right now for you.', toolCalls: [{ name: 'register', arguments: {} }] },
        { input: 'no wait', content: 'Okay.' },
      ],
      tts: [{ input: 'Sure, let me set up your account right now for you.', duration: 4000 }],
      session: { tools: [registerTool([], errors)] },
    });
    await h.at(9000);
    expect(errors).toEqual(['AgentTaskCancelledError: AgentTask collect_email was cancelled: the speech that awaited it was interrupted']);
    const lines = historyText(h.session);
    expect(lines.filter((l) => l.includes('collect_email') || l.includes('What is your email?'))).toEqual([]);
    // The user's turn, said while the caller was pausing, is answered by the caller.
    expect(lines.slice(-2)).toEqual(['user: no wait', 'assistant: Okay.']);
    expect(h.session.currentAgent).toBe(h.agent);
    await h.session.close();
  });

  it('the user speaking as the task takes over: the paused caller is not left holding the floor', async () => {
    class Timed extends AgentTask<string> {
      constructor() {
        super({ instructions: 'timed' });
      }
      override onEnter() {
        setTimeout(() => this.complete('late'), 3000);
      }
    }
    const go = functionTool({ name: 'go', description: '', execute: async () => `got ${await new Timed()}` });
    const h = await startHarness({
      // "uh huh" begins just before the task takes over (its VAD start reaches the caller) and ends at the task.
      utterances: [{ start: 0, end: 500, transcript: 'go' }, { start: 1100, end: 2500, transcript: '' }],
      llm: [
        { input: 'go', toolCalls: [{ name: 'go', arguments: {} }], ttft: 300, duration: 300 },
        { input: 'got late', content: 'Got it.' },
      ],
      agent: new Agent({ instructions: 'caller', tools: [go] }),
    });
    await h.at(2000);
    expect(h.session.currentAgent).toBeInstanceOf(Timed);
    expect(h.session.userState).toBe('speaking');
    await h.at(10000);
    expect(historyText(h.session).slice(-2)).toEqual(['output go: got late', 'assistant: Got it.']);
    expect(h.session.userState).toBe('listening');
    expect(h.session.agentState).toBe('listening');
    await h.session.close();
  });

  it('a tool that returns a task (not an Agent handoff) awaits it: the result is the tool output', async () => {
    const ask = functionTool({ name: 'ask', description: '', execute: () => new CollectEmail() });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'ask me' }, { start: 4000, end: 5000, transcript: 'q@r.s' }],
      llm: [
        { input: 'ask me', toolCalls: [{ name: 'ask', arguments: {} }] },
        { input: 'q@r.s', toolCalls: [{ name: 'record_email', arguments: { email: 'q@r.s' } }] },
      ],
      session: { tools: [ask] },
    });
    await h.at(10000);
    expect(historyText(h.session)).toContain('output ask: q@r.s');
    expect(h.session.currentAgent).toBe(h.agent);
    await h.session.close();
  });

  it('awaited outside a tool or hook, a task rejects at once with a clear error', async () => {
    const h = await startHarness();
    await expect(async () => await new CollectEmail()).rejects.toThrow(/must be awaited inside a tool or a hook/);
    expect(h.session.currentAgent).toBe(h.agent);
    await h.session.close();
  });

  it('complete() twice: the first result counts, the second is an error event', async () => {
    class Twice extends AgentTask<number> {
      constructor() {
        super({ instructions: 'twice' });
      }
      override onEnter() {
        this.complete(1);
        this.complete(2);
      }
    }
    const got: number[] = [];
    class Caller extends Agent {
      constructor() {
        super({ instructions: 'caller' });
      }
      override async onEnter() {
        got.push(await new Twice());
      }
    }
    const h = await startHarness({ agent: new Caller() });
    await h.at(1000);
    expect(got).toEqual([1]);
    expect(h.rec.of('error').map((e) => e.error.message)).toEqual(['AgentTask twice was already completed']);
    await h.session.close();
  });
});

describe('AgentTask from onEnter, nested, and at close', () => {
  it('onEnter awaits a task: it greets first, the user answers it, then the agent speaks with the result', async () => {
    class Greeter extends Agent {
      constructor() {
        super({ instructions: 'greeter' });
      }
      override async onEnter() {
        const email = await new CollectEmail('Email first, please.');
        this.session.say(`Thanks, ${email}.`);
      }
    }
    const h = await startHarness({
      agent: new Greeter(),
      utterances: [{ start: 3000, end: 4000, transcript: 'x@y.z' }],
      llm: [{ input: 'x@y.z', toolCalls: [{ name: 'record_email', arguments: { email: 'x@y.z' } }] }],
    });
    await h.at(10000);
    expect(historyText(h.session)).toEqual([
      'handoff - -> greeter',
      'handoff greeter -> collect_email',
      'assistant: Email first, please.',
      'user: x@y.z',
      'call record_email({"email":"x@y.z"})',
      'output record_email: ',
      'handoff collect_email -> greeter',
      'assistant: Thanks, x@y.z.',
    ]);
    expect(h.rec.agentStates().at(-1)).toBe('listening');
    await h.session.close();
  });

  it('tasks nest: a task awaiting a task gets its result, and each caller resumes in turn', async () => {
    const order: string[] = [];
    class Inner extends AgentTask<string> {
      constructor() {
        super({ instructions: 'inner', tools: [functionTool({ name: 'done_inner', description: '', execute: () => this.complete('inner-result') })] });
      }
    }
    class Outer extends AgentTask<string> {
      constructor() {
        super({ instructions: 'outer' });
      }
      override async onEnter() {
        const r = await new Inner();
        order.push(`outer got ${r}`);
        this.complete(`outer(${r})`);
      }
    }
    const tool = functionTool({
      name: 'go',
      description: '',
      execute: async () => {
        const r = await new Outer();
        order.push(`tool got ${r}`);
        return r;
      },
    });
    let deepest = 0;
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'start' }, { start: 3000, end: 3500, transcript: 'finish inner' }],
      llm: [
        { input: 'start', toolCalls: [{ name: 'go', arguments: {} }] },
        { input: 'finish inner', toolCalls: [{ name: 'done_inner', arguments: {} }] },
        { input: 'outer(inner-result)', content: 'All done.' },
      ],
      session: { tools: [tool] },
    });
    for (let t = 500; t <= 8000; t += 100) {
      await h.at(t);
      deepest = Math.max(deepest, (h.session._rootActor as any).getSnapshot().context.taskStack.length);
    }
    expect(deepest).toBe(2);
    expect(order).toEqual(['outer got inner-result', 'tool got outer(inner-result)']);
    expect(askedBy(h)).toEqual(['You are a test agent.', 'inner', 'You are a test agent.']);
    expect(historyText(h.session).at(-1)).toBe('assistant: All done.');
    await h.session.close();
  });

  it('closing the session while a task runs rejects its await with AgentTaskClosedError and releases every actor', async () => {
    const errors: string[] = [];
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'sign me up' }],
      llm: [{ input: 'sign me up', toolCalls: [{ name: 'register', arguments: {} }] }],
      session: { tools: [registerTool([], errors)] },
    });
    await h.at(3000);
    expect(h.session.currentAgent).toBeInstanceOf(CollectEmail);
    const taskActivity = (h.session as any).stack.current;
    const callerActivity = (h.session as any).stack.paused[0];
    await h.session.close();
    expect(errors).toEqual(['AgentTaskClosedError: the session closed while AgentTask collect_email ran']);
    expect(h.session.lifecycle).toBe('closed');
    expect(h.rec.of('close')).toHaveLength(1);
    expect(taskActivity.actor.getSnapshot().status).toBe('stopped');
    expect(callerActivity.actor.getSnapshot().status).toBe('stopped');
    expect((h.session._rootActor as any).getSnapshot().context.taskStack).toEqual([]);
  });

  it('the inspector sees the task as session states; interrupt() and drain() act on the task first', async () => {
    const states: string[] = [];
    const inspect = (e: InspectionEvent) => {
      if (e.type !== '@xstate.snapshot' || (e.actorRef as any)._parent) return; // the session actor only
      const v = (e.snapshot as any).value;
      const agent = typeof v === 'object' && v.running ? v.running.agent : null;
      if (agent && states.at(-1) !== agent) states.push(agent);
    };
    class Talker extends AgentTask<string> {
      constructor() {
        super({ instructions: 'talker' });
      }
      override onEnter() {
        this.session.say('A long story about many things that takes a while to tell.');
      }
    }
    const errors: string[] = [];
    const go = functionTool({
      name: 'go',
      description: '',
      execute: async () => {
        await new Talker().catch((e: Error) => errors.push(e.name));
      },
    });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'go' }],
      llm: [{ input: 'go', toolCalls: [{ name: 'go', arguments: {} }] }],
      tts: [{ input: 'A long story about many things that takes a while to tell.', duration: 5000 }],
      session: { tools: [go], inspect },
    });
    await h.at(2500);
    expect(h.session.agentState).toBe('speaking');
    await h.session.interrupt();
    expect(h.output.segments.at(-1)!.interrupted).toBe(true);
    expect(h.session.currentAgent).toBeInstanceOf(Talker);
    await h.session.drain();
    expect(errors).toEqual(['AgentTaskClosedError']);
    expect(states).toEqual(['active', 'startingTask', 'inTask']);
    expect(h.session.lifecycle).toBe('closed');
  });

  it('a handoff from inside a task is refused with an error event; the task keeps the conversation', async () => {
    const transfer = functionTool({ name: 'transfer', description: '', execute: () => new Agent({ instructions: 'other', id: 'other' }) });
    class Leaky extends AgentTask<string> {
      constructor() {
        super({ instructions: 'leaky', tools: [transfer, functionTool({ name: 'finish', description: '', execute: () => this.complete('ok') })] });
      }
    }
    const results: string[] = [];
    const go = functionTool({ name: 'go', description: '', execute: async () => void results.push(await new Leaky()) });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'go' }, { start: 3000, end: 3500, transcript: 'transfer me' }, { start: 6000, end: 6500, transcript: 'finish' }],
      llm: [
        { input: 'go', toolCalls: [{ name: 'go', arguments: {} }] },
        { input: 'transfer me', toolCalls: [{ name: 'transfer', arguments: {} }] },
        { input: 'finish', toolCalls: [{ name: 'finish', arguments: {} }] },
      ],
      agent: new Agent({ instructions: 'caller', tools: [go] }),
    });
    await h.at(5000);
    expect(h.session.currentAgent).toBeInstanceOf(Leaky);
    expect(h.rec.of('error').map((e) => e.error.message)).toEqual([
      'cannot hand off to other while AgentTask leaky runs: complete the task, then hand off from its caller',
    ]);
    await h.at(10000);
    expect(results).toEqual(['ok']);
    expect(h.session.currentAgent).toBe(h.agent);
    expect(h.session.lifecycle).toBe('running');
    await h.session.close();
  });
});
