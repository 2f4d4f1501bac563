import { finalize, from, isObservable, map, Observable, shareReplay, tap } from 'rxjs';
import { playSegment } from '../../actors/playout.ts';
import { startLLMInference, type LLMInference } from '../../actors/llmInference.ts';
import { synthesizeStream } from '../../actors/ttsInference.ts';
import type { Agent } from '../agent.ts';
import type { AudioInput } from '../io/types.ts';
import { createMessage, type ChatContext, type ChatMessage, type FunctionCall } from '../llm/chatContext.ts';
import type { RunContext, ToolChoice } from '../llm/tools.ts';
import type { AgentActivity } from './agentActivity.ts';
import type { SpeechHandle } from './speechHandle.ts';
import { speechScope } from './speechContext.ts';
import { executeToolCall, type ToolResult } from './toolExecution.ts';
import { TranscriptPacer } from './transcriptPacer.ts';

export type SayInput = string | AsyncIterable<string> | Observable<string>;

interface SpokenStep {
  /** Text the user heard (all of it unless interrupted). */
  text: string;
  interrupted: boolean;
  startedSpeakingAt: number | null;
  stoppedSpeakingAt: number | null;
  /** performance.now() when the first text reached the TTS provider. */
  firstTextToTtsAt?: number;
  ttsTtfbMs?: number;
  /** ms from the first frame handed to the output to the output reporting playback. */
  playbackLatencyMs?: number;
}

/** One shared subscription: the TTS and the transcript both read the text, and an async iterator runs once. */
const asObservable = (t: SayInput): Observable<string> =>
  (typeof t === 'string' ? from([t]) : isObservable(t) ? t : from(t as AsyncIterable<string>)).pipe(shareReplay({ refCount: true }));

/**
 * Plays one step of a speech: text to the TTS (through the text transforms) and to the transcript pacer, audio to
 * the output. Resolves with what was heard; an interruption stops the audio and keeps only the heard words.
 */
async function speakStep(act: AgentActivity, h: SpeechHandle, text$: Observable<string>, audio?: AudioInput): Promise<SpokenStep> {
  const session = act.session;
  const pacer = new TranscriptPacer(session.output.transcription);
  act.playing = { pacer, handle: h };
  let startedSpeakingAt: number | null = null;
  const onStarted = (at: number) => {
    startedSpeakingAt = at;
    pacer.playbackStarted(at);
    h.actor.send({ type: 'PLAYBACK_STARTED' });
    act.actor.send({ type: 'PLAYBACK_STARTED' });
  };
  let textDone!: () => void;
  const textFinished = new Promise<void>((r) => (textDone = r));
  const textSub = text$.subscribe({
    next: (t) => pacer.pushText(t),
    complete: () => {
      pacer.endText();
      textDone();
    },
    error: () => {
      pacer.endText();
      textDone();
    },
  });
  const out = session.output.audio;
  const ac = new AbortController();
  // whenInterrupted() also settles when the speech ends; aborting then would only build an AbortError for nobody.
  void h.whenInterrupted().then(() => h.interrupted && ac.abort());
  try {
    if (!out || (!audio && !act.tts)) {
      // Text only: the agent "speaks" as soon as text flows and is done when the text is.
      const first = new Promise<void>((r) => {
        const s = text$.subscribe({ next: () => (r(), s.unsubscribe()), complete: () => r(), error: () => r() });
      });
      await Promise.race([first, h.whenInterrupted()]);
      if (!h.interrupted && pacer.fullText) onStarted(Date.now());
      await Promise.race([textFinished, h.whenInterrupted()]);
      const interrupted = h.interrupted;
      const heard = startedSpeakingAt === null ? '' : pacer.finish(false, 0);
      return { text: heard, interrupted, startedSpeakingAt, stoppedSpeakingAt: Date.now() };
    }
    if (act.outputPaused && act.actor.getSnapshot().context.paused?.id !== h.id) act.resumeOutput();
    let timing: { firstTextAt: number; ttfbMs: number } | null = null;
    const frames$ = audio
      ? audio.pipe(tap((f) => pacer.pushAudio(f.durationMs)), finalize(() => pacer.endAudio()))
      : synthesizeStream(act.tts!, session._ttsTextTransform(text$), {
          speechId: h.id,
          onMetrics: (m) => session._emit({ type: 'metrics_collected', metrics: m }),
          onError: (e, recoverable) => session._reportError('tts', act.tts!.label, e, recoverable),
          onFirstAudio: (t) => (timing = t),
        }).pipe(
          tap((a) => pacer.pushAudio(a.frame.durationMs, session.options.useTtsAlignedTranscript ? a.timedWords : undefined)),
          finalize(() => pacer.endAudio()),
          map((a) => a.frame),
        );
    const r = await playSegment({ audio: session._adaptAudioForOutput(frames$, out), output: out, onPlaybackStarted: onStarted }, ac.signal);
    const cut = r.interrupted || !!r.error;
    const heard = r.pushed ? (r.synchronizedTranscript ?? pacer.finish(cut, r.positionMs)) : (pacer.finish(true, 0), '');
    if (act.outputPaused && !act.actor.getSnapshot().context.paused) act.resumeOutput();
    const t = timing as { firstTextAt: number; ttfbMs: number } | null;
    return {
      text: heard,
      interrupted: cut || h.interrupted,
      startedSpeakingAt,
      stoppedSpeakingAt: Date.now(),
      ...(t ? { firstTextToTtsAt: t.firstTextAt, ttsTtfbMs: t.ttfbMs } : {}),
      ...(r.playbackStartedAt !== null && r.firstFrameAt !== null ? { playbackLatencyMs: Math.max(0, r.playbackStartedAt - r.firstFrameAt) } : {}),
    };
  } finally {
    textSub.unsubscribe();
    if (act.playing?.pacer === pacer) act.playing = null;
  }
}

/**
 * The assistant message of a step, with its latency breakdown (ms): llmNodeTtft (request → first token),
 * llmNodeTtfs (request → first text at the TTS provider), ttsNodeTtfb (text at the provider → first audio),
 * playbackLatency (first frame to the output → playback started), e2eLatency (user stopped speaking → agent started).
 */
function addAssistantMessage(
  act: AgentActivity,
  h: SpeechHandle,
  ctx: ChatContext | null,
  step: SpokenStep,
  id: string | undefined,
  createdAt: number,
  from: { llm?: LLMInference; userStoppedSpeakingAt?: number } = {},
): ChatMessage | null {
  if (!step.text) return null;
  const metrics: Record<string, number> = {};
  if (step.startedSpeakingAt !== null) metrics.startedSpeakingAt = step.startedSpeakingAt;
  if (step.stoppedSpeakingAt !== null) metrics.stoppedSpeakingAt = step.stoppedSpeakingAt;
  if (from.llm?.ttftMs != null) metrics.llmNodeTtft = from.llm.ttftMs;
  if (from.llm && step.firstTextToTtsAt !== undefined) metrics.llmNodeTtfs = Math.max(0, step.firstTextToTtsAt - from.llm.startedAt);
  if (step.ttsTtfbMs !== undefined) metrics.ttsNodeTtfb = step.ttsTtfbMs;
  if (step.playbackLatencyMs !== undefined) metrics.playbackLatency = step.playbackLatencyMs;
  if (step.startedSpeakingAt !== null && from.userStoppedSpeakingAt !== undefined) {
    metrics.e2eLatency = Math.max(0, step.startedSpeakingAt - from.userStoppedSpeakingAt);
  }
  const msg = createMessage('assistant', step.text, { id, interrupted: step.interrupted, createdAt, metrics });
  ctx?.insert(msg);
  h.chatItems.push(msg);
  act.session._addToHistory(msg, act, true);
  return msg;
}

/** The agent state after a step's playout: thinking while tools or background speeches are pending. */
function afterPlayout(act: AgentActivity, h: SpeechHandle, toolsPending: boolean): void {
  const next = toolsPending || act.backgroundSpeeches(h).length > 0 ? 'thinking' : 'listening';
  act.actor.send({ type: 'PLAYOUT_ENDED', next });
}

async function waitAuthorizedAndSilent(act: AgentActivity, h: SpeechHandle): Promise<boolean> {
  await h.whenAuthorized();
  if (!h.interrupted && h.allowInterruptions) await act.whenUserSilent(h);
  return !h.interrupted && !h.done();
}

export async function runSay(
  act: AgentActivity,
  h: SpeechHandle,
  text: SayInput,
  opts: { addToChatCtx: boolean; audio?: AudioInput },
): Promise<void> {
  try {
    await h.whenScheduled();
    if (!(await waitAuthorizedAndSilent(act, h))) return;
    const createdAt = Date.now();
    const step = await speakStep(act, h, asObservable(text), opts.audio);
    if (opts.addToChatCtx) addAssistantMessage(act, h, act.agent.chatCtx, step, undefined, createdAt);
    afterPlayout(act, h, false);
  } catch (e) {
    h.error = e as Error;
    act.session._reportError('session', 'say', e, true);
  } finally {
    if (h.isAuthorized()) act.stepDone(h);
    h._finish();
    act.actor.send({ type: 'REPLY_FINISHED', backgroundSpeech: act.backgroundSpeeches(h).length > 0 });
  }
}

export interface ReplyOptions {
  chatCtx: ChatContext;
  userMessage?: ChatMessage;
  instructions?: string;
  toolChoice: ToolChoice;
}

/**
 * A pipeline reply: LLM → (tools) → TTS → playout, repeated for tool rounds up to `maxToolSteps`. The LLM starts at
 * once; nothing plays before the speech is scheduled and authorised; tools start only once authorised.
 */
export async function runReply(act: AgentActivity, h: SpeechHandle, opts: ReplyOptions): Promise<void> {
  const session = act.session;
  const maxToolSteps = session.options.maxToolSteps;
  const ctx = opts.chatCtx.copy();
  if (opts.userMessage) ctx.insert(opts.userMessage);
  if (opts.instructions) ctx.add(createMessage('system', opts.instructions, { createdAt: Date.now() }));
  let toolChoice = opts.toolChoice;
  let userMessagePending = opts.userMessage;
  let handoffAgent: Agent | null = null;
  let firstSpoken = true; // e2e latency belongs to the first step the user hears (a silent tool step may precede it)
  try {
    for (;;) {
      const gen = startLLMInference(
        act.llm!,
        { chatCtx: ctx, tools: toolChoice === 'none' ? [] : act.tools, toolChoice },
        {
          speechId: h.id,
          onMetrics: (m) => session._emit({ type: 'metrics_collected', metrics: m }),
          onError: (e, recoverable) => session._reportError('llm', act.llm!.label, e, recoverable),
        },
      );
      await h.whenScheduled();
      if (userMessagePending && h.scheduled) {
        act.agent.chatCtx.insert(userMessagePending);
        session._addToHistory(userMessagePending, act, true);
        userMessagePending = undefined;
      }
      if (h.interrupted || h.done()) {
        gen.cancel();
        return;
      }
      act.actor.send({ type: 'REPLY_SCHEDULED' });
      if (!(await waitAuthorizedAndSilent(act, h))) {
        gen.cancel();
        return;
      }
      const replyStartedAt = Date.now();

      // Tools run concurrently with the step's audio, each to exactly one output.
      const results: Promise<ToolResult>[] = [];
      let stepPlayedOut!: () => void;
      const stepPlayout = new Promise<void>((r) => (stepPlayedOut = r));
      const toolSub = gen.toolCalls$.subscribe((call) => {
        if (toolChoice === 'none') return; // the model was told not to call tools: ignore stray calls
        act.toolsRunning++;
        session._statesChanged();
        results.push(
          speechScope
            .run({ activity: act, handle: h, inTool: true }, () =>
              executeToolCall(call, act.tools, (c) => makeRunContext(act, h, c, stepPlayout), (e, name) =>
                session._reportError('tool', name, e, true),
              ),
            )
            .finally(() => {
              act.toolsRunning--;
              session._statesChanged();
            }),
        );
      });

      const step = await speakStep(act, h, gen.text$);
      stepPlayedOut();
      addAssistantMessage(act, h, ctx, step, gen.id, replyStartedAt, { llm: gen, userStoppedSpeakingAt: firstSpoken ? opts.userMessage?.metrics?.stoppedSpeakingAt : undefined });
      if (step.startedSpeakingAt !== null) firstSpoken = false;
      if (step.interrupted) gen.cancel();
      await gen.done;
      toolSub.unsubscribe();
      if (gen.error) h.error = gen.error;
      if (step.startedSpeakingAt !== null || results.length > 0) afterPlayout(act, h, results.length > 0);
      act.stepDone(h);

      if (results.length === 0) return;
      const done = await Promise.all(results);
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
        session._addToHistory(calls[i]!, act, false);
        session._addToHistory(outputs[i]!, act, false);
      }
      if (handoffWanted) {
        handoffAgent = agents[agents.length - 1]!;
        session.updateAgent(handoffAgent);
      }
      if (!replyWanted || h.interrupted) {
        if (act.isIdle() && act.toolsRunning === 0) act.actor.send({ type: 'REPLY_FINISHED', backgroundSpeech: act.backgroundSpeeches(h).length > 0 });
        return;
      }
      // The tool reply: one more LLM step on the same handle, forced to plain text once the step budget is spent.
      const maxStepsReached = h.numSteps >= maxToolSteps + 1;
      toolChoice = maxStepsReached || handoffAgent || opts.toolChoice === 'none' ? 'none' : 'auto';
      act.scheduleSpeech(h, { force: true });
    }
  } catch (e) {
    h.error = e as Error;
    session._reportError('session', 'reply', e, true);
  } finally {
    if (h.isAuthorized()) act.stepDone(h);
    h._finish();
    act.actor.send({ type: 'REPLY_FINISHED', backgroundSpeech: act.backgroundSpeeches(h).length > 0 });
  }
}

function makeRunContext(act: AgentActivity, h: SpeechHandle, call: FunctionCall, stepPlayout: Promise<void>): RunContext {
  return {
    session: act.session,
    speechHandle: h,
    functionCall: { callId: call.callId, name: call.name, arguments: call.arguments },
    get userdata() {
      return act.session.userdata;
    },
    waitForPlayout: () => stepPlayout,
  };
}
