import { Observable, ReplaySubject, throwError, type Subscription } from 'rxjs';
import { isFlushSentinel, nodeOutput, withDefaults, type LLMNodeChunk, type ModelSettings } from '../src/agentNodes.ts';
import type { FunctionCall } from '../src/llm/chatContext.ts';
import { shortId } from '../src/llm/ids.ts';
import { ThinkingFilter } from '../src/llm/thinking.ts';
import type { FunctionTool } from '../src/llm/tools.ts';
import type { ChatChunk, LLM, LLMRequest } from '../src/providers/types.ts';
import type { Metrics } from '../src/session/events.ts';

/**
 * One running LLM generation. Text and tool calls are replayed to late subscribers, so the generation can start
 * before its speech is authorised (preemptive generation, queued replies) without losing a token.
 */
export interface LLMInference {
  readonly id: string;
  readonly text$: ReplaySubject<string>;
  readonly toolCalls$: ReplaySubject<FunctionCall>;
  readonly toolCalls: FunctionCall[];
  /**
   * The text split at each `FlushSentinel` of the llmNode: segment `i` once it exists, null when the generation
   * ended with fewer segments. Segment 0 always exists.
   */
  segment(i: number): Promise<ReplaySubject<string> | null>;
  /** Settles when the stream ends, fails or is cancelled; never rejects. */
  readonly done: Promise<void>;
  readonly error: Error | null;
  readonly text: string;
  /** performance.now() when the request started. */
  readonly startedAt: number;
  /** ms from the request to the first text or tool call; null until then. */
  readonly ttftMs: number | null;
  cancel(): void;
}

export interface LLMInferenceHooks {
  onMetrics: (m: Metrics) => void;
  onError: (e: Error, recoverable: boolean) => void;
  speechId?: string;
  /** The agent's llmNode; without it the LLM is called directly. */
  node?: (chatCtx: LLMRequest['chatCtx'], tools: readonly FunctionTool[], settings: ModelSettings) => unknown;
}

/** A node's chunk as an LLM chunk: a string is content; a flush sentinel passes through. */
const asChunk = (c: LLMNodeChunk, id: string): ChatChunk | LLMNodeChunk => (typeof c === 'string' ? { id, delta: { content: c } } : c);

export function startLLMInference(llm: LLM, request: Omit<LLMRequest, 'onError'>, hooks: LLMInferenceHooks): LLMInference {
  const text$ = new ReplaySubject<string>();
  const toolCalls$ = new ReplaySubject<FunctionCall>();
  const toolCalls: FunctionCall[] = [];
  const startedAt = performance.now();
  let firstTokenAt: number | null = null;
  let requestId = '';
  let text = '';
  let error: Error | null = null;
  let usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  let settled = false;
  let textEnded = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const messageId = shortId('item_');
  // Only an llmNode can yield a FlushSentinel: without one the whole text is the one segment (no second buffer).
  const segments: ReplaySubject<string>[] = [hooks.node ? new ReplaySubject<string>() : text$];
  let segmentWaiters: Array<() => void> = [];
  const wakeSegmentWaiters = () => {
    const w = segmentWaiters;
    segmentWaiters = [];
    for (const f of w) f();
  };
  const pushText = (t: string) => {
    text += t;
    text$.next(t);
    const segment = segments[segments.length - 1]!;
    if (segment !== text$) segment.next(t);
  };
  const segmentAt = (i: number): Promise<ReplaySubject<string> | null> => {
    if (segments[i]) return Promise.resolve(segments[i]!);
    if (textEnded) return Promise.resolve(null);
    return new Promise((resolve) => segmentWaiters.push(() => resolve(segmentAt(i))));
  };
  const flushSegment = () => {
    if (textEnded) return;
    segments.at(-1)!.complete();
    segments.push(new ReplaySubject<string>());
    wakeSegmentWaiters();
  };

  // Reasoning (`<think>…</think>` in the content) is neither spoken nor kept as what the agent said.
  const thinking = new ThinkingFilter();
  /** Ends the text; `flush` releases characters held while a tag was undecided (not when cancelled). */
  const endText = (flush: boolean) => {
    if (textEnded) return;
    textEnded = true;
    const rest = flush ? thinking.end() : '';
    if (rest) pushText(rest);
    text$.complete();
    segments[segments.length - 1]!.complete();
    wakeSegmentWaiters();
  };
  const settle = (cancelled: boolean) => {
    if (settled) return;
    settled = true;
    endText(!cancelled);
    toolCalls$.complete();
    const durationMs = performance.now() - startedAt;
    if (requestId || cancelled) {
      hooks.onMetrics({
        type: 'llm_metrics',
        label: llm.label,
        requestId,
        timestamp: Date.now(),
        durationMs,
        ttftMs: firstTokenAt === null ? -1 : firstTokenAt - startedAt,
        cancelled,
        ...usage,
        tokensPerSecond: durationMs > 0 ? usage.completionTokens / (durationMs / 1000) : 0,
        speechId: hooks.speechId,
      });
    }
    resolveDone();
  };

  const fail = (e: unknown) => {
    error = e instanceof Error ? e : new Error(String(e));
    hooks.onError(error, false);
    settle(false);
  };
  let sub: Subscription | null = null;
  let stream: Observable<ChatChunk | LLMNodeChunk>;
  const chat = (chatCtx: LLMRequest['chatCtx'], tools: readonly FunctionTool[], settings: ModelSettings) =>
    llm.chat({ ...request, chatCtx, tools: [...tools], toolChoice: settings.toolChoice, onError: (e, recoverable) => hooks.onError(e, recoverable) });
  try {
    const node = hooks.node;
    const tools = request.tools as unknown as readonly FunctionTool[];
    stream = node
      ? nodeOutput<LLMNodeChunk>('llmNode', withDefaults({ llm: chat }, () => node(request.chatCtx, tools, { toolChoice: request.toolChoice })))
      : chat(request.chatCtx, tools, { toolChoice: request.toolChoice });
  } catch (e) {
    // A provider whose chat() throws instead of returning a failing stream: the same error, reported the same way.
    stream = throwError(() => e);
  }
  sub = stream.subscribe({
    next: (raw) => {
      if (isFlushSentinel(raw)) return flushSegment();
      const chunk = asChunk(raw, messageId) as ChatChunk;
      if (!chunk || typeof chunk !== 'object') return;
      requestId ||= chunk.id;
      if (chunk.usage) usage = { ...usage, ...chunk.usage };
      const d = chunk.delta;
      if (d && !textEnded) {
        if ((d.content || d.toolCalls?.length) && firstTokenAt === null) firstTokenAt = performance.now();
        const visible = d.content ? thinking.push(d.content) : '';
        if (visible) pushText(visible);
      }
      // The text is complete: the TTS can take the last sentence now, not after the usage chunk and [DONE].
      if (chunk.finishReason) endText(true);
      if (!d || textEnded) return;
      for (const tc of d.toolCalls ?? []) {
        const call: FunctionCall = {
          type: 'function_call',
          id: `${messageId}/fnc_${toolCalls.length}`,
          callId: tc.callId,
          name: tc.name,
          arguments: tc.arguments,
          createdAt: Date.now(),
        };
        toolCalls.push(call);
        toolCalls$.next(call);
      }
    },
    error: fail,
    complete: () => settle(false),
  });

  return {
    id: messageId,
    text$,
    toolCalls$,
    toolCalls,
    segment: segmentAt,
    done,
    get error() {
      return error;
    },
    get text() {
      return text;
    },
    startedAt,
    get ttftMs() {
      return firstTokenAt === null ? null : firstTokenAt - startedAt;
    },
    cancel() {
      if (settled) return;
      sub?.unsubscribe();
      settle(true);
    },
  };
}
