/** TaskGroup (tasks in order, going back to an earlier one) and the invariant monitor over task scenarios. */
import { NEVER } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, AgentSession, AgentTask, functionTool, TaskGroup, type ChatItem } from '../src/index.ts';
import { FakeAudioOutput, FakeLLM, FakeSTT, FakeTTS, FakeVAD, TracedTTS, trackActors, UserSpeechScript, watchInvariants } from '../src/testing/index.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

/** A task that asks `question` and completes with what `record_<field>` gets. */
class Ask extends AgentTask<string> {
  constructor(
    readonly field: string,
    readonly question: string,
  ) {
    super({
      id: `ask_${field}`,
      instructions: `collect the ${field}`,
      tools: [
        functionTool({
          name: `record_${field}`,
          description: `records the ${field}`,
          parameters: z.object({ value: z.string() }),
          execute: ({ value }) => this.complete(value),
        }),
      ],
    });
  }
  override onEnter() {
    this.session.say(this.question);
  }
}

const group = (summarizeChatCtx?: boolean) =>
  new TaskGroup({
    tasks: [
      { id: 'name', task: () => new Ask('name', 'Your name?'), description: 'the user name' },
      { id: 'email', task: () => new Ask('email', 'Your email?'), description: 'the user email' },
      { id: 'phone', task: () => new Ask('phone', 'Your phone?'), description: 'the user phone' },
    ],
    summarizeChatCtx,
  });

const recordCall = (field: string, value: string) => ({ name: `record_${field}`, arguments: { value } });

describe('TaskGroup', () => {
  it('runs its tasks in order and resolves to their results by id', async () => {
    const results: unknown[] = [];
    const onboard = functionTool({ name: 'onboard', description: '', execute: async () => void results.push(await group()) });
    const h = await startHarness({
      utterances: [
        { start: 0, end: 500, transcript: 'onboard me' },
        { start: 3000, end: 3500, transcript: 'Ada' },
        { start: 6000, end: 6500, transcript: 'ada@x.io' },
        { start: 9000, end: 9500, transcript: '555' },
      ],
      llm: [
        { input: 'onboard me', toolCalls: [{ name: 'onboard', arguments: {} }] },
        { input: 'Ada', toolCalls: [recordCall('name', 'Ada')] },
        { input: 'ada@x.io', toolCalls: [recordCall('email', 'ada@x.io')] },
        { input: '555', toolCalls: [recordCall('phone', '555')] },
      ],
      session: { tools: [onboard] },
    });
    await h.at(14000);
    expect(results).toEqual([{ name: 'Ada', email: 'ada@x.io', phone: '555' }]);
    expect(h.session.history.messages().filter((m) => m.role === 'assistant').map((m) => m.content.join(''))).toEqual(['Your name?', 'Your email?', 'Your phone?']);
    // The first task has nothing to go back to; later ones are offered the earlier ones.
    const tools = h.llm.requests.map((r) => r.tools.filter((t) => t.startsWith('record_') || t === 'return_to_task'));
    expect(tools.slice(1)).toEqual([['record_name'], ['record_email', 'return_to_task'], ['record_phone', 'return_to_task']]);
    expect(h.session.currentAgent).toBe(h.agent);
    await h.session.close();
  });

  it('return_to_task re-runs an earlier task (its result replaced), then goes on in order from there', async () => {
    const results: unknown[] = [];
    const onboard = functionTool({ name: 'onboard', description: '', execute: async () => void results.push(await group()) });
    const h = await startHarness({
      utterances: [
        { start: 0, end: 500, transcript: 'onboard me' },
        { start: 3000, end: 3500, transcript: 'Ada' },
        { start: 6000, end: 6500, transcript: 'wait my name is wrong' },
        { start: 9000, end: 9500, transcript: 'Grace' },
        { start: 12000, end: 12500, transcript: 'grace@x.io' },
        { start: 15000, end: 15500, transcript: '777' },
      ],
      llm: [
        { input: 'onboard me', toolCalls: [{ name: 'onboard', arguments: {} }] },
        { input: 'Ada', toolCalls: [recordCall('name', 'Ada')] },
        { input: 'wait my name is wrong', toolCalls: [{ name: 'return_to_task', arguments: { task_id: 'name' } }] },
        { input: 'Grace', toolCalls: [recordCall('name', 'Grace')] },
        { input: 'grace@x.io', toolCalls: [recordCall('email', 'grace@x.io')] },
        { input: '777', toolCalls: [recordCall('phone', '777')] },
      ],
      session: { tools: [onboard] },
    });
    await h.at(20000);
    expect(results).toEqual([{ name: 'Grace', email: 'grace@x.io', phone: '777' }]);
    const asked = h.session.history.messages().filter((m) => m.role === 'assistant').map((m) => m.content.join(''));
    expect(asked).toEqual(['Your name?', 'Your email?', 'Your name?', 'Your email?', 'Your phone?']);
    // The return tool only names earlier tasks: a model cannot jump forward.
    const ret = h.llm.requests[2]!;
    expect(ret.tools).toContain('return_to_task');
    await h.session.close();
  });

  it('summarizeChatCtx: the caller gets one summary written by the LLM instead of every message', async () => {
    let callerItems: ChatItem[] = [];
    const onboard = functionTool({
      name: 'onboard',
      description: '',
      execute: async (_args, ctx) => {
        await group(true);
        callerItems = [...(ctx.session as unknown as AgentSession).currentAgent.chatCtx.items];
      },
    });
    const h = await startHarness({
      utterances: [
        { start: 0, end: 500, transcript: 'onboard me' },
        { start: 3000, end: 3500, transcript: 'Ada' },
        { start: 6000, end: 6500, transcript: 'ada@x.io' },
        { start: 9000, end: 9500, transcript: '555' },
      ],
      llm: [
        { input: 'onboard me', toolCalls: [{ name: 'onboard', arguments: {} }] },
        { input: 'Ada', toolCalls: [recordCall('name', 'Ada')] },
        { input: 'ada@x.io', toolCalls: [recordCall('email', 'ada@x.io')] },
        { input: '555', toolCalls: [recordCall('phone', '555')] },
        { input: 'assistant: Your name?\nuser: Ada\nassistant: Your email?\nuser: ada@x.io\nassistant: Your phone?\nuser: 555', content: 'Ada, ada@x.io, 555.' },
      ],
      session: { tools: [onboard] },
    });
    await h.at(14000);
    const texts = callerItems.filter((i) => i.type === 'message').map((i) => (i.type === 'message' ? `${i.role}: ${i.content.join('')}` : ''));
    expect(texts).toEqual(['system: You are a test agent.', 'user: onboard me', 'assistant: Ada, ada@x.io, 555.']);
    // The history keeps everything that was said.
    expect(historyText(h.session).filter((l) => l.startsWith('user:'))).toEqual(['user: onboard me', 'user: Ada', 'user: ada@x.io', 'user: 555']);
    await h.session.close();
  });

  it('bad configuration is a clear error', () => {
    expect(() => new TaskGroup({ tasks: [] })).toThrow(/at least one task/);
    const t = { task: () => new Ask('a', 'a?'), description: '' };
    expect(() => new TaskGroup({ tasks: [{ id: 'x', ...t }, { id: 'x', ...t }] })).toThrow(/unique/);
  });
});

/** A session on the fakes under the invariant monitor (started before the session, as it must be). */
async function monitored(utterances: ConstructorParameters<typeof UserSpeechScript>[0], responses: ConstructorParameters<typeof FakeLLM>[0], tools: ReturnType<typeof functionTool>[]) {
  const speech = new UserSpeechScript(utterances);
  const llm = new FakeLLM(responses);
  const tts = new TracedTTS(new FakeTTS([], { msPerChar: 60 }), { msPerChar: 60 });
  const actors = trackActors();
  const session = new AgentSession({ vad: new FakeVAD(speech), stt: new FakeSTT(speech), llm, tts, tools, inspect: actors.inspect, turnHandling: { aecWarmupDuration: 0 } });
  session.output.audio = new FakeAudioOutput({ canPause: true });
  session.input.audio = NEVER;
  const monitor = watchInvariants(session, { tts, actors, timerCount: () => vi.getTimerCount() });
  await session.start({ agent: new Agent({ instructions: 'caller' }) });
  const finish = async () => {
    const closing = session.close();
    await vi.advanceTimersByTimeAsync(5000);
    await closing;
    monitor.checkClosed();
    monitor.stop();
    return monitor.violations;
  };
  return { session, llm, monitor, finish };
}

describe('the invariant monitor over tasks', () => {
  it('stays clean through a task group with a return to an earlier task', async () => {
    const results: unknown[] = [];
    const onboard = functionTool({ name: 'onboard', description: '', execute: async () => void results.push(await group()) });
    const w = await monitored(
      [
        { start: 0, end: 500, transcript: 'onboard me' },
        { start: 3000, end: 3500, transcript: 'Ada' },
        { start: 6000, end: 6500, transcript: 'wait my name is wrong' },
        { start: 9000, end: 9500, transcript: 'Grace' },
        { start: 12000, end: 12500, transcript: 'grace@x.io' },
        { start: 15000, end: 15500, transcript: '777' },
      ],
      [
        { input: 'onboard me', content: 'Let us get you onboarded.', toolCalls: [{ name: 'onboard', arguments: {} }] },
        { input: 'Ada', toolCalls: [recordCall('name', 'Ada')] },
        { input: 'wait my name is wrong', toolCalls: [{ name: 'return_to_task', arguments: { task_id: 'name' } }] },
        { input: 'Grace', toolCalls: [recordCall('name', 'Grace')] },
        { input: 'grace@x.io', toolCalls: [recordCall('email', 'grace@x.io')] },
        { input: '777', toolCalls: [recordCall('phone', '777')] },
      ],
      [onboard],
    );
    await vi.advanceTimersByTimeAsync(25_000);
    w.monitor.check({ settled: true });
    expect(results).toEqual([{ name: 'Grace', email: 'grace@x.io', phone: '777' }]);
    expect(await w.finish()).toEqual([]);
  });

  it('stays clean when the session closes inside nested tasks', async () => {
    class Inner extends AgentTask<string> {
      constructor() {
        super({ instructions: 'inner' });
      }
      override onEnter() {
        this.session.say('Inner task speaking for quite a long while now.');
      }
    }
    class Outer extends AgentTask<string> {
      constructor() {
        super({ instructions: 'outer' });
      }
      override async onEnter() {
        this.session.say('Outer first.');
        this.complete(await new Inner());
      }
    }
    const rejected: string[] = [];
    const go = functionTool({ name: 'go', description: '', execute: () => new Outer().catch((e: Error) => void rejected.push(e.name)) });
    const w = await monitored([{ start: 0, end: 500, transcript: 'go' }], [{ input: 'go', toolCalls: [{ name: 'go', arguments: {} }] }], [go]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(w.session.currentAgent).toBeInstanceOf(Inner);
    expect((w.session._rootActor as any).getSnapshot().context.taskStack.map((t: { id: string }) => t.id)).toEqual(['outer', 'inner']);
    expect(await w.finish()).toEqual([]);
    expect(rejected).toEqual(['AgentTaskClosedError']);
  });


  it('stays clean through a task from a tool, a barge-in while the task speaks, and close while a task runs', async () => {
    const speech = new UserSpeechScript([
      { start: 0, end: 600, transcript: 'sign me up' },
      { start: 3200, end: 3900, transcript: 'stop a moment' },
      { start: 7000, end: 7600, transcript: 'it is a@b.c' },
      { start: 11000, end: 11600, transcript: 'again please' },
    ]);
    const llm = new FakeLLM([
      { input: 'sign me up', content: 'One moment please.', toolCalls: [{ name: 'register', arguments: {} }] },
      { input: 'stop a moment', content: 'Sure, take your time.' },
      { input: 'it is a@b.c', toolCalls: [recordCall('email', 'a@b.c')] },
      { input: 'registered a@b.c', content: 'Registered you now.' },
      { input: 'again please', toolCalls: [{ name: 'register', arguments: {} }] },
    ]);
    const tts = new TracedTTS(new FakeTTS([], { msPerChar: 60 }), { msPerChar: 60 });
    const actors = trackActors();
    const register = functionTool({
      name: 'register',
      description: '',
      execute: async () => `registered ${await new (class extends Ask {
        override onEnter() {
          this.session.say('Please tell me your email address now, slowly and clearly.');
        }
      })('email', '')}`,
    });
    const session = new AgentSession({ vad: new FakeVAD(speech), stt: new FakeSTT(speech), llm, tts, tools: [register], inspect: actors.inspect, turnHandling: { aecWarmupDuration: 0 } });
    session.output.audio = new FakeAudioOutput();
    session.input.audio = NEVER;
    const monitor = watchInvariants(session, { tts, actors, timerCount: () => vi.getTimerCount() });
    await session.start({ agent: new Agent({ instructions: 'caller' }) });
    await vi.advanceTimersByTimeAsync(10_500);
    monitor.check({ settled: true });
    expect(session.history.messages().map((m) => m.content.join(''))).toContain('Registered you now.');
    await vi.advanceTimersByTimeAsync(2500); // the second task runs
    expect(session.currentAgent).toBeInstanceOf(Ask);
    const closing = session.close();
    await vi.advanceTimersByTimeAsync(5000);
    await closing;
    monitor.checkClosed();
    monitor.stop();
    const lines = historyText(session);
    // The barge-in cut the task's speech and the task (not the paused caller) answered it.
    expect(lines.slice(4, 8)).toEqual(['handoff default_agent -> ask_email', 'assistant: Please tell me your email [interrupted]', 'user: stop a moment', 'assistant: Sure, take your time.']);
    expect(llm.requests[1]!.items.find((i) => i.type === 'message')).toMatchObject({ role: 'system', content: ['collect the email'] });
    expect(monitor.violations).toEqual([]);
  });
});
