import { defer, EMPTY, from, isObservable, Observable, shareReplay, switchMap } from 'rxjs';
import { startLLMInference } from '../../actors/llmInference.ts';
import { offeredToolNames } from '../../machines/speech.ts';
import type { Agent } from '../agent.ts';
import { refreshInstructions } from '../agentConfig.ts';
import { isDefaultNode } from '../agentNodes.ts';
import type { AudioInput } from '../io/types.ts';
import { createMessage, type ChatContext, type ChatMessage, type FunctionCall } from '../llm/chatContext.ts';
import type { FunctionTool, ToolChoice, ToolFiller } from '../llm/tools.ts';
import type { ActivityHost } from './host.ts';
import { addAssistantMessage, speakStep } from './speakStep.ts';
import type { SpeechHandle } from './speechHandle.ts';
import { inSpeechScope } from './speechContext.ts';
import { makeRunContext, speakFiller } from './runContext.ts';
import { executeToolCall, type ToolResult } from './toolExecution.ts';
import { prefetchSpeechAudio } from './prefetchedSpeech.ts';

export type SayInput = string | AsyncIterable<string> | Observable<string>;

/** One shared subscription: the TTS and the transcript both read the text, and an async iterator runs once. */
const asObservable = (t: SayInput): Observable<string> =>
  (typeof t === 'string' ? from([t]) : isObservable(t) ? t : from(t as AsyncIterable<string>)).pipe(shareReplay({ refCount: true }));

/** Settles the speech whatever happened: its step (if authorised) and then the speech itself are done. */
function finishSpeech(act: ActivityHost, h: SpeechHandle): void {
  if (h.isAuthorized()) act.stepDone(h, 0);
  h._finish();
}

export async function runSay(act: ActivityHost, h: SpeechHandle, text: SayInput, opts: { addToChatCtx: boolean; audio?: AudioInput }): Promise<void> {
  try {
    await h.whenScheduled();
    await h.whenAuthorized();
    if (h.interrupted || h.done()) return;
    const createdAt = Date.now();
    const step = await speakStep(act, h, asObservable(text), opts.audio);
    if (opts.addToChatCtx) addAssistantMessage(act, h, null, step, undefined, createdAt);
  } catch (e) {
    h.error = e as Error;
    act.session._reportError('session', 'say', e, true);
  } finally {
    finishSpeech(act, h);
  }
}

export interface ReplyOptions {
  chatCtx: ChatContext;
  userMessage?: ChatMessage;
  instructions?: string;
  toolChoice: ToolChoice;
  /** Preemptive TTS: the first step's audio is synthesised before the speech is scheduled. */
  prefetchTts?: boolean;
}

/**
 * A pipeline reply: LLM → (tools) → TTS → playout. The speech's statechart owns the loop: after a step's tools it
 * decides whether a tool reply follows (and whether it may call tools again, `maxToolSteps`); this function runs
 * each step it is told to. The LLM starts at once; nothing plays before the speech is scheduled and authorised.
 */
export async function runReply(act: ActivityHost, h: SpeechHandle, opts: ReplyOptions): Promise<void> {
  const session = act.session;
  const ctx = opts.chatCtx.copy();
  if (opts.userMessage) ctx.insert(opts.userMessage);
  if (opts.instructions) ctx.add(createMessage('system', opts.instructions, { createdAt: Date.now() }));
  let userMessagePending = opts.userMessage;
  let firstSpoken = true; // e2e latency belongs to the first step the user hears (a silent tool step may precede it)
  // A slow tool's filler, when the speech machine says it is due (a delay of its runningTools state).
  const fillerOf = new Map<string, ToolFiller>();
  const fillers = h.actor.on('filler', ({ callId }) => {
    const filler = fillerOf.get(callId);
    if (filler) speakFiller(act, filler);
  });
  try {
    while (!h.done()) {
      const speech = h.actor.getSnapshot().context;
      const toolChoice = speech.toolChoice;
      // Which tools this step is offered is the machines' call: the activity's tools, the speech's facts.
      const offered = offeredToolNames(act.actor.getSnapshot().context.tools, speech);
      const tools = offered.map((n) => act.tools.find((t) => t.name === n)).filter((t): t is FunctionTool => !!t);
      refreshInstructions(ctx, act.agent.chatCtx);
      const gen = startLLMInference(
        act.llm!,
        { chatCtx: ctx, tools, toolChoice },
        {
          speechId: h.id,
          onMetrics: (m) => session._emit({ type: 'metrics_collected', metrics: m }),
          onError: (e, recoverable) => session._reportError('llm', act.llm!.label, e, recoverable),
          node: isDefaultNode(act.agent.llmNode) ? undefined : (c, t, s) => act.agent.llmNode(c, t, s),
        },
      );
      // Only a speculative reply's first step (not yet scheduled) is synthesised ahead; it still plays after the commit.
      const prefetched =
        opts.prefetchTts && !h.scheduled ? prefetchSpeechAudio(act, h, defer(() => from(gen.segment(0))).pipe(switchMap((seg) => seg ?? EMPTY))) : undefined;
      await h.whenScheduled();
      if (userMessagePending && h.scheduled) {
        // The user's message joins the agent's context and the history once its reply is really scheduled.
        act.agent.chatCtx.insert(userMessagePending);
        session._addToHistory(userMessagePending, true);
        userMessagePending = undefined;
      }
      await h.whenAuthorized();
      if (h.interrupted || h.done()) {
        gen.cancel();
        return;
      }
      const replyStartedAt = Date.now();
      const running = startTools(act, h, gen.toolCalls$, toolChoice, tools, fillerOf);
      // Each FlushSentinel of the llmNode ends a segment: one assistant message per segment the user heard. A
      // preemptive TTS buffer holds the first segment's audio only.
      for (let i = 0; ; i++) {
        const segment = i === 0 ? await gen.segment(0) : await Promise.race([gen.segment(i), h.whenInterrupted().then(() => null)]);
        if (!segment || (i > 0 && h.interrupted)) break;
        const startedAt = i === 0 ? replyStartedAt : Date.now();
        const step = await speakStep(act, h, segment, i === 0 ? prefetched : undefined);
        addAssistantMessage(act, h, ctx, step, i === 0 ? gen.id : undefined, startedAt, {
          llm: i === 0 ? gen : undefined,
          userStoppedSpeakingAt: firstSpoken ? opts.userMessage?.metrics?.stoppedSpeakingAt : undefined,
        });
        if (step.startedSpeakingAt !== null) firstSpoken = false;
        if (step.interrupted || h.interrupted) {
          gen.cancel();
          break;
        }
      }
      running.stepPlayedOut();
      await gen.done;
      running.stopAccepting();
      if (gen.error) h.error = gen.error;
      act.stepDone(h, running.count());
      if (running.count() === 0) return;
      await finishTools(act, h, ctx, await running.results());
    }
  } catch (e) {
    h.error = e as Error;
    session._reportError('session', 'reply', e, true);
  } finally {
    fillers.unsubscribe();
    finishSpeech(act, h);
  }
}

/** Tools run concurrently with the step's audio, each to exactly one output. */
function startTools(act: ActivityHost, h: SpeechHandle, calls$: Observable<FunctionCall>, toolChoice: unknown, offered: FunctionTool[], fillerOf: Map<string, ToolFiller>) {
  const results: Promise<ToolResult>[] = [];
  let stepPlayedOut!: () => void;
  const stepPlayout = new Promise<void>((r) => (stepPlayedOut = r));
  // A tool stops when its speech is interrupted or the session closes (made at the first call: most steps have none).
  let signal: AbortSignal | null = null;
  const sub = calls$.subscribe((call) => {
    if (toolChoice === 'none') return; // the model was told not to call tools: ignore stray calls
    signal ??= AbortSignal.any([h.abortSignal, act.closeSignal]);
    const abortSignal = signal;
    act.toolStarted();
    const filler = offered.find((t) => t.name === call.name)?.filler;
    if (filler) {
      fillerOf.set(call.callId, filler);
      h.actor.send({ type: 'TOOL_FILLER', callId: call.callId, after: filler.after });
    }
    const hook = h.actor.getSnapshot().context.inOnEnter ? 'onEnter' : undefined;
    results.push(
      inSpeechScope({ activity: act, handle: h, inTool: true, hook }, () =>
          // Only the tools offered to the step can run: a hidden tool is unknown to this call.
          executeToolCall(call, offered, (c) => makeRunContext(act, h, c, stepPlayout, abortSignal), (e, name) => act.session._reportError('tool', name, e, true), abortSignal),
        )
        .finally(() => act.toolFinished()),
    );
  });
  return {
    stepPlayedOut,
    stopAccepting: () => sub.unsubscribe(),
    count: () => results.length,
    results: () => Promise.all(results),
  };
}

/**
 * Records a step's tool calls and outputs, lets listeners cancel the reply or the handoff, and tells the speech
 * machine what the outputs want; it decides whether another step follows (then the speech is queued again).
 */
async function finishTools(act: ActivityHost, h: SpeechHandle, ctx: ChatContext, done: ToolResult[]): Promise<void> {
  const session = act.session;
  const calls: FunctionCall[] = done.map((r) => r.call);
  const outputs = done.map((r) => r.output);
  const interrupted = h.interrupted;
  let replyWanted = !interrupted && done.some((r) => r.replyRequired);
  const agents = done.map((r) => r.agent).filter((a): a is Agent => a !== null);
  let handoffWanted = agents.length > 0;
  if (interrupted && handoffWanted) {
    // The speech was cut: the requested handoff did not happen, and the model is told so.
    for (const r of done) if (r.agent) Object.assign(r.output, { output: 'the agent handoff was interrupted and did not happen', isError: true });
    handoffWanted = false;
  }
  session._emit({
    type: 'function_tools_executed',
    functionCalls: calls,
    functionCallOutputs: outputs,
    get hasToolReply() {
      return replyWanted;
    },
    get hasAgentHandoff() {
      return handoffWanted;
    },
    cancelToolReply: () => void (replyWanted = false),
    cancelAgentHandoff: () => void (handoffWanted = false),
  });
  for (let i = 0; i < calls.length; i++) {
    ctx.add(calls[i]!);
    ctx.add(outputs[i]!);
    act.agent.chatCtx.add(calls[i]!);
    act.agent.chatCtx.add(outputs[i]!);
    h.chatItems.push(calls[i]!, outputs[i]!);
    session._addToHistory(calls[i]!, false);
    session._addToHistory(outputs[i]!, false);
  }
  if (handoffWanted) session.updateAgent(agents[agents.length - 1]!);
  h.actor.send({ type: 'TOOLS_DONE', replyWanted: replyWanted && !h.interrupted, handoff: handoffWanted });
  if (h.actor.getSnapshot().matches('scheduled')) {
    // The tool reply is one more step of the same speech, queued ahead of the scheduler's fences.
    act.actor.send({ type: 'SPEECH_ENQUEUED', id: h.id, priority: h.priority, kind: h.kind, force: true });
  }
  act.toolStepDone(h);
}
