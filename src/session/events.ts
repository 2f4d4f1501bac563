import type { AgentState } from '../../machines/activity.ts';
import type { CloseReason } from '../../machines/session.ts';
import type { ChatItem, ChatMessage, FunctionCall, FunctionCallOutput, AgentHandoff } from '../llm/chatContext.ts';
import type { SpeechHandle } from './speechHandle.ts';
import type { Metrics } from './metrics.ts';
import type { SessionUsage } from './usage.ts';

export type { AgentState, CloseReason };
export type UserState = 'listening' | 'speaking' | 'away';

export interface AgentStateChangedEvent { type: 'agent_state_changed'; oldState: AgentState; newState: AgentState; createdAt: number }
export interface UserStateChangedEvent { type: 'user_state_changed'; oldState: UserState; newState: UserState; createdAt: number }
export interface UserInputTranscribedEvent {
  type: 'user_input_transcribed';
  transcript: string;
  isFinal: boolean;
  language?: string;
  speakerId?: string;
  createdAt: number;
}
export interface ConversationItemAddedEvent { type: 'conversation_item_added'; item: ChatMessage | AgentHandoff; createdAt: number }

export interface FunctionToolsExecutedEvent {
  type: 'function_tools_executed';
  functionCalls: FunctionCall[];
  functionCallOutputs: FunctionCallOutput[];
  createdAt: number;
  /** Whether a tool reply will be generated (any output asks for one and it was not cancelled). */
  readonly hasToolReply: boolean;
  readonly hasAgentHandoff: boolean;
  /** Call synchronously from a listener to suppress the reply to these outputs. */
  cancelToolReply(): void;
  /** Call synchronously from a listener to suppress the handoff a tool requested. */
  cancelAgentHandoff(): void;
}

export type { Metrics };

export interface MetricsCollectedEvent { type: 'metrics_collected'; metrics: Metrics; createdAt: number }
/** After every LLM, TTS or STT metrics event: the session's usage so far, per model. */
export interface SessionUsageUpdatedEvent { type: 'session_usage_updated'; usage: SessionUsage; createdAt: number }
export interface SpeechCreatedEvent {
  type: 'speech_created';
  userInitiated: boolean;
  source: 'say' | 'generate_reply';
  speechHandle: SpeechHandle;
  createdAt: number;
}
export interface AgentFalseInterruptionEvent { type: 'agent_false_interruption'; resumed: boolean; createdAt: number }

export type ErrorSource = 'llm' | 'stt' | 'tts' | 'vad' | 'audio_input' | 'audio_output' | 'tool' | 'session' | 'turn_detector';
export interface ErrorEvent {
  type: 'error';
  error: Error;
  source: ErrorSource;
  /** The model or component that failed, e.g. `openai/gpt-4.1-mini`. */
  label: string;
  recoverable: boolean;
  createdAt: number;
}
export interface CloseEvent { type: 'close'; reason: CloseReason; error: Error | null; createdAt: number }

export type AgentSessionEvent =
  | AgentStateChangedEvent
  | UserStateChangedEvent
  | UserInputTranscribedEvent
  | ConversationItemAddedEvent
  | FunctionToolsExecutedEvent
  | MetricsCollectedEvent
  | SessionUsageUpdatedEvent
  | SpeechCreatedEvent
  | AgentFalseInterruptionEvent
  | ErrorEvent
  | CloseEvent;

export type AgentSessionEventType = AgentSessionEvent['type'];
export type EventOf<T extends AgentSessionEventType> = Extract<AgentSessionEvent, { type: T }>;

export type { ChatItem };
