/**
 * Provider interfaces. Every stream is an RxJS Observable: subscribing starts the work, unsubscribing cancels it
 * (an HTTP request is aborted, a model stream closed). A terminal `error` is an unrecoverable failure of that call;
 * failures that a provider retried are reported through `ProviderCallOptions.onError` with `recoverable: true`.
 */
import type { Observable } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import type { ChatContext } from '../llm/chatContext.ts';
import type { ToolChoice, ToolDefinition } from '../llm/tools.ts';
import type { APIConnectOptions } from './retry.ts';

export interface ProviderCallOptions {
  /** Called for each failed attempt that will be retried (recoverable) — never for the final failure. */
  onError?: (error: Error, recoverable: boolean) => void;
  /** Overrides the provider's own connection options for this call (a FallbackAdapter uses it to fail over fast). */
  connOptions?: Partial<APIConnectOptions>;
}

// ---------------------------------------------------------------- VAD

export type VADEventType = 'start_of_speech' | 'inference_done' | 'end_of_speech';

export interface VADEvent {
  type: VADEventType;
  /** Position in the input stream, in ms, at the end of the window that produced this event. */
  timestamp: number;
  /** Speech accumulated in the current segment, ms. */
  speechDuration: number;
  /** Silence accumulated since speech last ended, ms. */
  silenceDuration: number;
  /** Time spent running the model for this window, ms. */
  inferenceDuration: number;
  /** Whether the VAD currently considers the user to be speaking. */
  speaking: boolean;
  /** Speech probability of the last window (0..1). */
  probability: number;
  /** On end_of_speech: the speech audio of the segment (with prefix padding), for segmenting STT adapters. */
  frames?: AudioFrame[];
}

export interface VAD {
  readonly label: string;
  /** Runs the detector over a stream of frames. */
  stream(audio: Observable<AudioFrame>): Observable<VADEvent>;
}

// ---------------------------------------------------------------- STT

export type SpeechEventType =
  | 'start_of_speech'
  | 'interim_transcript'
  | 'preflight_transcript'
  | 'final_transcript'
  | 'end_of_speech';

export interface SpeechData {
  text: string;
  language?: string;
  confidence?: number;
  /** Word/segment timing relative to the start of the audio stream, ms. */
  startTime?: number;
  endTime?: number;
  speakerId?: string;
}

export interface SpeechEvent {
  type: SpeechEventType;
  alternatives?: SpeechData[];
  requestId?: string;
  /** On a final transcript from a request/response recognizer: the audio it was sent and how long it took (ms). */
  recognitionUsage?: { audioDurationMs: number; durationMs: number };
}

export interface STTCapabilities {
  streaming: boolean;
  interimResults: boolean;
}

export interface STTStreamOptions extends ProviderCallOptions {
  language?: string;
}

export interface STT {
  readonly label: string;
  readonly capabilities: STTCapabilities;
  /** Streaming recognition. Non-streaming recognizers get this from a VAD-segmenting adapter. */
  stream(audio: Observable<AudioFrame>, opts?: STTStreamOptions): Observable<SpeechEvent>;
  /** One-shot recognition of a buffered utterance (non-streaming providers). */
  recognize?(frames: AudioFrame[], opts?: STTStreamOptions & { signal?: AbortSignal }): Promise<SpeechEvent>;
}

// ---------------------------------------------------------------- LLM

export interface FunctionToolCall {
  callId: string;
  name: string;
  /** Raw JSON text as produced by the model (may be malformed). */
  arguments: string;
}

export interface CompletionUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  promptCachedTokens?: number;
}

export interface ChatChunk {
  id: string;
  delta?: {
    content?: string;
    /** Complete tool calls (providers accumulate streamed fragments before emitting). */
    toolCalls?: FunctionToolCall[];
  };
  usage?: CompletionUsage;
  /** The model finished its message (`stop`, `length`, `tool_calls`…): no more text or calls follow, only usage. */
  finishReason?: string;
}

export interface LLMRequest extends ProviderCallOptions {
  chatCtx: ChatContext;
  tools: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
}

export interface LLM {
  readonly label: string;
  readonly model: string;
  chat(request: LLMRequest): Observable<ChatChunk>;
}

// ---------------------------------------------------------------- TTS

/** A word (or other unit) with its timing inside the synthesized audio, ms from the segment's start. */
export interface TimedString {
  text: string;
  startTime: number;
  endTime: number;
}

export interface SynthesizedAudio {
  frame: AudioFrame;
  requestId?: string;
  segmentId?: string;
  /** Last frame of a segment. */
  final?: boolean;
  /** Word timings that start in this frame, when the engine provides them. */
  timedWords?: TimedString[];
}

export interface TTSCapabilities {
  streaming: boolean;
  alignedTranscript: boolean;
}

export interface TTS {
  readonly label: string;
  readonly sampleRate: number;
  readonly numChannels: number;
  readonly capabilities: TTSCapabilities;
  /** Synthesizes one complete text. */
  synthesize(text: string, opts?: ProviderCallOptions): Observable<SynthesizedAudio>;
  /**
   * Streaming synthesis: text chunks in, audio out; completes once the input completed and all audio is out.
   * Providers without it are wrapped by a sentence-tokenizing adapter.
   */
  stream?(text: Observable<string>, opts?: ProviderCallOptions): Observable<SynthesizedAudio>;
}
