/** voicechart: real-time voice agents on XState statecharts and RxJS streams. */
export { AgentSession, type StartOptions } from './session/agentSession.ts';
export type { AgentSessionOptions, TurnHandlingOptions, ResolvedSessionOptions } from './session/options.ts';
export { Agent, type AgentOptions } from './agent.ts';
export { SpeechHandle, SPEECH_PRIORITY_LOW, SPEECH_PRIORITY_NORMAL, SPEECH_PRIORITY_HIGH } from './session/speechHandle.ts';
export type * from './session/events.ts';
export { functionTool, ToolError, StopResponse, ToolArgumentsError } from './llm/tools.ts';
export type { FunctionTool, RunContext, ToolChoice, ToolDefinition } from './llm/tools.ts';
export { ChatContext, createMessage, textContent } from './llm/chatContext.ts';
export type { ChatItem, ChatMessage, FunctionCall, FunctionCallOutput, AgentHandoff, ChatRole } from './llm/chatContext.ts';
export { AudioFrame, AudioFormatError } from './audio/frame.ts';
export type * from './io/types.ts';
export type * from './providers/types.ts';
export * from './providers/errors.ts';
export type { TurnDetector, TurnDetectionMode } from '../machines/userTurn.ts';
export { machines } from '../machines/index.ts';
