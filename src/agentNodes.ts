import { AsyncLocalStorage } from 'node:async_hooks';
import { scopedRunner } from './scopedStorage.ts';
import { EMPTY, from, isObservable, NEVER, Observable, switchMap } from 'rxjs';
import type { AudioFrame } from './audio/frame.ts';
import type { ChatContext } from './llm/chatContext.ts';
import type { FunctionTool, ToolChoice } from './llm/tools.ts';
import type { ChatChunk, SpeechEvent, STTStreamOptions, SynthesizedAudio } from './providers/types.ts';

/**
 * The pipeline nodes of an Agent (stt → llm → tts, and the transcript): what each takes and may return, the
 * defaults an override can reuse, and the adapters that turn whatever a node returns into one stream.
 */

/** Yielded by an `llmNode`: ends the spoken segment here and starts the next (one reply, several segments). */
export class FlushSentinel {
  readonly kind = 'flush_sentinel' as const;
}

export const isFlushSentinel = (v: unknown): v is FlushSentinel => v instanceof FlushSentinel;

/** Settings of the model call a node makes. */
export interface ModelSettings {
  toolChoice?: ToolChoice;
}

/** A stream a node receives: an Observable that can also be read with `for await`. */
export type NodeStream<T> = Observable<T> & AsyncIterable<T>;

type Maybe<T> = T | null | undefined | void;
type Streamed<T> = Observable<T> | AsyncIterable<T>;
export type NodeResult<T> = Maybe<Streamed<T> | (T extends string ? string : never)> | Promise<Maybe<Streamed<T> | (T extends string ? string : never)>>;

export type LLMNodeChunk = string | ChatChunk | FlushSentinel;
export type LLMNodeResult = NodeResult<LLMNodeChunk> | string | Promise<string>;
export type TTSNodeResult = NodeResult<AudioFrame | SynthesizedAudio>;
export type STTNodeResult = NodeResult<SpeechEvent>;
export type TranscriptionNodeResult = NodeResult<string>;

/**
 * The defaults the pipeline step that calls a node provides (its model, hooks and metrics), reached through the
 * async context so `super.ttsNode(...)` or `Agent.default.ttsNode(this, ...)` works after an `await` too.
 */
export interface NodeDefaults {
  stt?: (audio$: Observable<AudioFrame>) => Observable<SpeechEvent>;
  llm?: (chatCtx: ChatContext, tools: readonly FunctionTool[], settings: ModelSettings) => Observable<ChatChunk>;
  tts?: (text$: Observable<string>) => Observable<SynthesizedAudio>;
}

export const nodeDefaults = new AsyncLocalStorage<NodeDefaults>();

function defaultFor<K extends keyof NodeDefaults>(kind: K): NonNullable<NodeDefaults[K]> {
  const d = nodeDefaults.getStore()?.[kind];
  if (!d) throw new Error(`the default ${kind}Node runs only inside the agent's pipeline (from the agent's own ${kind}Node)`);
  return d as NonNullable<NodeDefaults[K]>;
}

/** The default nodes, reusable from an override: `Agent.default.llmNode(this, chatCtx, tools, settings)`. */
export const defaultNodes = {
  /** The agent's STT over the input audio (a non-streaming STT is already wrapped with the VAD adapter). */
  sttNode: (_agent: unknown, audio$: Observable<AudioFrame>, _settings: ModelSettings = {}): STTNodeResult => defaultFor('stt')(audio$),
  /** The agent's LLM: chunks with text and tool calls. */
  llmNode: (_agent: unknown, chatCtx: ChatContext, tools: readonly FunctionTool[], settings: ModelSettings = {}): LLMNodeResult =>
    defaultFor('llm')(chatCtx, tools, settings),
  /** The agent's TTS (a non-streaming TTS is wrapped with the sentence adapter); text arrives after the text transforms. */
  ttsNode: (_agent: unknown, text$: Observable<string>, _settings: ModelSettings = {}): TTSNodeResult => defaultFor('tts')(text$),
  /** The transcript as spoken: the text unchanged. */
  transcriptionNode: (_agent: unknown, text$: Observable<string>, _settings: ModelSettings = {}): TranscriptionNodeResult => text$,
};

/** Gives an Observable `for await` reading (values buffered between reads; the subscription ends with the loop). */
export function asNodeStream<T>(source: Observable<T>): NodeStream<T> {
  const stream = source.pipe() as NodeStream<T>;
  stream[Symbol.asyncIterator] = () => {
    const buffered: T[] = [];
    let ended = false;
    let failure: { e: unknown } | null = null;
    let wake: (() => void) | null = null;
    const notify = () => (wake?.(), (wake = null));
    const sub = source.subscribe({
      next: (v) => (buffered.push(v), notify()),
      error: (e) => ((failure = { e }), notify()),
      complete: () => ((ended = true), notify()),
    });
    return {
      async next(): Promise<IteratorResult<T>> {
        while (!buffered.length && !ended && !failure) await new Promise<void>((r) => (wake = r));
        if (buffered.length) return { value: buffered.shift()!, done: false };
        sub.unsubscribe();
        if (failure) throw (failure as { e: unknown }).e;
        return { value: undefined, done: true };
      },
      async return(): Promise<IteratorResult<T>> {
        sub.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  };
  return stream;
}

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  v !== null && typeof v === 'object' && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';

/**
 * One stream from whatever a node returned: a string is one chunk, an Observable or AsyncIterable is read as is,
 * a promise is awaited, and nothing (null/undefined) is `onNothing` (an empty stream unless told otherwise).
 * Anything else is an error of the stream, with a message naming the node.
 */
export function nodeOutput<T>(node: string, value: unknown, onNothing: Observable<T> = EMPTY): Observable<T> {
  const one = (v: unknown): Observable<T> => {
    if (v === null || v === undefined) return onNothing;
    if (typeof v === 'string') return from([v as T]);
    if (isObservable(v)) return v as Observable<T>;
    if (isAsyncIterable(v)) return from(v as AsyncIterable<T>);
    return new Observable<T>((s) => s.error(new TypeError(`${node} returned ${typeof v}: expected a string, an Observable, an AsyncIterable or nothing`)));
  };
  if (value instanceof Promise) return from(value).pipe(switchMap(one));
  return one(value);
}

/** Marks the `Agent` methods that are the default nodes (set in agent.ts), so the pipeline can call the model directly. */
export const DEFAULT_NODE: unique symbol = Symbol('voicechart.defaultNode');

/** Whether this node method is the default one (the agent does not override it). */
export const isDefaultNode = (method: unknown): boolean => typeof method === 'function' && DEFAULT_NODE in method;

/** Switched off once no override runs (Node 20 runs its async hooks on every promise while a storage is on). */
const runWithDefaults = scopedRunner(nodeDefaults);

/**
 * Runs an overridden node with the pipeline's defaults in reach. Only overrides need it: a default node is called
 * without it, so an agent that overrides nothing never switches async context tracking on.
 */
export function withDefaults<T>(defaults: NodeDefaults, call: () => T): T {
  return runWithDefaults(defaults, call);
}

/**
 * The STT stream of an agent whose `sttNode` is overridden (undefined when it is not: recognition then calls the
 * STT itself). A node that returns nothing hears nothing, without ending (an ended STT stream is restarted).
 */
export function sttNodeStream(
  agent: { sttNode: (audio$: NodeStream<AudioFrame>, s: ModelSettings) => STTNodeResult },
  stt: { stream(audio$: Observable<AudioFrame>, opts?: STTStreamOptions): Observable<SpeechEvent> } | null,
  isDefault: boolean,
): ((audio$: Observable<AudioFrame>, opts: STTStreamOptions) => Observable<SpeechEvent>) | undefined {
  if (isDefault || !stt) return undefined;
  return (audio$, opts) =>
    nodeOutput<SpeechEvent>('sttNode', withDefaults({ stt: (a) => stt.stream(a, opts) }, () => agent.sttNode(asNodeStream(audio$), {})), NEVER);
}
