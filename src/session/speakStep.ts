import { finalize, map, Observable, shareReplay, take, tap, throwError } from 'rxjs';
import { asNodeStream, isDefaultNode, nodeOutput, withDefaults } from '../agentNodes.ts';
import { startSegment } from '../../actors/playout.ts';
import { synthesizeStream } from '../../actors/ttsInference.ts';
import type { AudioInput } from '../io/types.ts';
import type { LLMInference } from '../../actors/llmInference.ts';
import { createMessage, type ChatContext, type ChatMessage } from '../llm/chatContext.ts';
import type { SynthesizedAudio } from '../providers/types.ts';
import { AudioFrame } from '../audio/frame.ts';
import { floorIsFree } from '../../machines/activity.ts';
import { holdUntil } from './holdUntil.ts';
import type { ActivityHost } from './host.ts';
import type { SpeechHandle } from './speechHandle.ts';
import { TranscriptPacer } from './transcriptPacer.ts';
import { checkFrame, oncePerKind } from './inputValidation.ts';

export interface SpokenStep {
  /** Text the user heard (all of it unless interrupted or cut by a failure). */
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

/** TTS frames the output cannot play (NaN or zero rates, mismatched lengths) are dropped with one error each kind. */
function playableOnly(report: (e: Error) => void): (a$: Observable<SynthesizedAudio>) => Observable<SynthesizedAudio> {
  return (a$) =>
    new Observable<SynthesizedAudio>((sub) => {
      const firstOfKind = oncePerKind();
      return a$.subscribe({
        next: (a) => {
          // Our own frames were validated by their constructor: only foreign frame-shaped objects are checked.
          if (a.frame instanceof AudioFrame) return sub.next(a);
          const v = checkFrame(a.frame);
          if (v.problem && firstOfKind(v.problem)) {
            report(new Error(`TTS produced an unplayable frame: ${v.problem}${v.frame ? ' (converted)' : ' (dropped)'}`));
          }
          if (v.frame) sub.next(v.frame === a.frame ? a : { ...a, frame: v.frame });
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
    });
}

/** A node (or the default standing in for it) threw: reported as the agent's, recoverable. */
const nodeFailed = (act: ActivityHost, name: string, e: unknown) => act.session._reportError('session', `${act.agent.id}.${name}`, e, true);

/** What a node returned (a promise awaited), or how it failed: a failing node is reported, never thrown on. */
async function callNode(act: ActivityHost, name: string, call: () => unknown): Promise<{ value: unknown } | { error: Error }> {
  try {
    return { value: await call() };
  } catch (e) {
    nodeFailed(act, name, e);
    return { error: e instanceof Error ? e : new Error(String(e)) };
  }
}

type FirstAudio = (t: { firstTextAt: number; ttfbMs: number }) => void;

/** The TTS inference's hooks for a step; `reported` collects the errors it reported itself. */
function ttsHooks(act: ActivityHost, h: SpeechHandle, onFirstAudio: FirstAudio, reported?: WeakSet<object>) {
  const session = act.session;
  const label = act.tts!.label;
  return {
    speechId: h.id,
    onMetrics: (m: Parameters<typeof session._emit>[0]['metrics']) => session._emit({ type: 'metrics_collected', metrics: m }),
    onError: (e: Error, recoverable: boolean) => (reported?.add(e), session._reportError('tts', label, e, recoverable)),
    onFirstAudio,
  };
}

/**
 * The default ttsNode's audio: the TTS itself over the transformed text, called at once (no node call, no promise
 * hop: the first frame of a warm turn is on this path). The inference reports its own failures.
 */
function defaultAudio(act: ActivityHost, h: SpeechHandle, text$: Observable<string>, onFirstAudio: FirstAudio): Observable<SynthesizedAudio> {
  try {
    return synthesizeStream(act.tts!, act.session._ttsTextTransform(text$), ttsHooks(act, h, onFirstAudio));
  } catch (e) {
    nodeFailed(act, 'ttsNode', e);
    return throwError(() => e);
  }
}

/** The segment's audio from an overridden ttsNode over the transformed text; null when it returns nothing (text only). */
async function segmentAudio(act: ActivityHost, h: SpeechHandle, text$: Observable<string>, onFirstAudio: FirstAudio) {
  const session = act.session;
  const tts = act.tts!;
  const reported = new WeakSet<object>();
  const defaults = { tts: (t$: Observable<string>) => synthesizeStream(tts, t$, ttsHooks(act, h, onFirstAudio, reported)) };
  const r = await callNode(act, 'ttsNode', () => withDefaults(defaults, () => act.agent.ttsNode(asNodeStream(session._ttsTextTransform(text$)), {})));
  if ('error' in r) return throwError(() => r.error);
  if (r.value === null || r.value === undefined) return null;
  return nodeOutput<AudioFrame | SynthesizedAudio>('ttsNode', r.value).pipe(
    map((a) => (a instanceof AudioFrame ? { frame: a } : a)),
    // The node's own failure is reported here; the default's (reused through super) by the TTS inference already.
    tap({ error: (e: unknown) => void (e instanceof Object && reported.has(e) ? undefined : session._reportError('tts', tts.label, e, false)) }),
  );
}

/**
 * Plays one step of a speech: text to the TTS (through the text transforms) and to the transcript pacer, audio to
 * the output. The first frame waits while the user holds the floor (a reply never starts over the user). Resolves
 * with what was heard; an interruption or a TTS failure keeps only the words whose audio played.
 */
export async function speakStep(act: ActivityHost, h: SpeechHandle, text$: Observable<string>, audio?: AudioInput): Promise<SpokenStep> {
  const session = act.session;
  // The transcript is what the agent's transcriptionNode makes of the text; when it returns nothing none is shown,
  // and what was heard is still measured on the text itself. The default node is the text itself: no call, no
  // promise hop and no replay buffer of its own (the step's text already replays to each subscriber).
  let paced$ = text$;
  let shown = true;
  if (!isDefaultNode(act.agent.transcriptionNode)) {
    const tr = await callNode(act, 'transcriptionNode', () => act.agent.transcriptionNode(asNodeStream(text$), {}));
    shown = 'error' in tr || (tr.value !== null && tr.value !== undefined);
    if ('value' in tr && shown) paced$ = nodeOutput<string>('transcriptionNode', tr.value).pipe(shareReplay({ refCount: true }));
  }
  const pacer = new TranscriptPacer(shown ? session.output.transcription : null);
  act.playing = { pacer, handle: h };
  let startedSpeakingAt: number | null = null;
  const onStarted = (at: number) => {
    startedSpeakingAt = at;
    pacer.playbackStarted(at);
    h.actor.send({ type: 'PLAYBACK_STARTED' });
    act.actor.send({ type: 'PLAYBACK_STARTED', id: h.id });
  };
  let textDone!: () => void;
  const textFinished = new Promise<void>((r) => (textDone = r));
  const textSub = paced$.subscribe({
    next: (t) => pacer.pushText(t),
    complete: () => (pacer.endText(), textDone()),
    error: () => (pacer.endText(), textDone()),
  });
  const out = session.output.audio;
  let timing: { firstTextAt: number; ttfbMs: number } | null = null;
  try {
    const onFirstAudio: FirstAudio = (t) => (timing = t);
    const synthesized = out && !audio && act.tts ? (isDefaultNode(act.agent.ttsNode) ? defaultAudio(act, h, text$, onFirstAudio) : await segmentAudio(act, h, text$, onFirstAudio)) : null;
    if (!out || (!audio && !synthesized)) {
      // Text only: the agent "speaks" as soon as text flows and is done when the text is.
      // The text may already be there (replayed synchronously): take one value, whenever it comes.
      const first = new Promise<void>((r) => void paced$.pipe(take(1)).subscribe({ next: () => r(), complete: () => r(), error: () => r() }));
      await Promise.race([first, h.whenInterrupted()]);
      if (!h.interrupted && pacer.fullText) onStarted(Date.now());
      await Promise.race([textFinished, h.whenInterrupted()]);
      const interrupted = h.interrupted;
      const heard = startedSpeakingAt === null ? '' : pacer.finish(false, 0);
      return { text: heard, interrupted, startedSpeakingAt, stoppedSpeakingAt: Date.now() };
    }
    if (act.outputPaused && act.actor.getSnapshot().context.paused?.id !== h.id) act.resumeOutput();
    let ttsFailed = false;
    const frames$ = audio
      ? audio.pipe(tap((f) => pacer.pushAudio(f.durationMs)), finalize(() => pacer.endAudio()))
      : synthesized!.pipe(
          playableOnly((e) => session._reportError('tts', act.tts!.label, e, true)),
          tap({
            next: (a) => pacer.pushAudio(a.frame.durationMs, session.options.useTtsAlignedTranscript ? a.timedWords : undefined),
            error: () => ((ttsFailed = true), pacer.audioFailed()),
          }),
          finalize(() => pacer.endAudio()),
          map((a) => a.frame),
        );
    // A speech that was interrupted while it waited for the floor never plays a frame.
    const gated = frames$.pipe(
      holdUntil(() => (floorIsFree(act.actor.getSnapshot().context) ? null : act.floorFree(h).then(() => !h.interrupted && !h.done()))),
    );
    const segment = startSegment({ audio: session._adaptAudioForOutput(gated, out), output: out, onPlaybackStarted: onStarted });
    // A barge-in stops the segment at once, in the interrupting call (no promise hop, no AbortSignal exception).
    const onInterrupt = h.actor.subscribe((snap) => snap.context.interrupted && segment.interrupt());
    const r = await segment.done.finally(() => onInterrupt.unsubscribe());
    const cut = r.interrupted || !!r.error || ttsFailed;
    const heard = r.pushed ? (r.synchronizedTranscript ?? pacer.finish(cut, r.positionMs)) : (pacer.finish(true, 0), '');
    if (act.outputPaused && !act.actor.getSnapshot().context.paused) act.resumeOutput();
    const t = timing as { firstTextAt: number; ttfbMs: number } | null;
    return {
      text: heard,
      interrupted: r.interrupted || h.interrupted || (cut && heard !== pacer.fullText.trim()),
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
 * It goes to the history, to the agent's own context (the LLM sees what it said and was heard) and to `replyCtx`.
 */
export function addAssistantMessage(
  act: ActivityHost,
  h: SpeechHandle,
  replyCtx: ChatContext | null,
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
  if (replyCtx && replyCtx !== act.agent.chatCtx) replyCtx.insert(msg);
  act.agent.chatCtx.insert(msg);
  h.chatItems.push(msg);
  act.session._addToHistory(msg, true);
  return msg;
}
