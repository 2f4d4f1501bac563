import { updateChatCtx, updateInstructions, updateTools, type AgentActivityLink } from './agentConfig.ts';
import { DEFAULT_NODE, defaultNodes, type LLMNodeResult, type ModelSettings, type NodeStream, type STTNodeResult, type TranscriptionNodeResult, type TTSNodeResult } from './agentNodes.ts';
import type { AudioFrame } from './audio/frame.ts';
import { ChatContext, type ChatMessage } from './llm/chatContext.ts';
import type { FunctionTool } from './llm/tools.ts';
import type { Tool } from './llm/toolset.ts';
import type { LLM, STT, TTS, VAD } from './providers/types.ts';
import type { AgentSession } from './session/agentSession.ts';
import { resolveSessionOptions, type TurnHandlingOptions } from './session/options.ts';

/** What `onUserTurnExceeded` is told: which limit the ongoing user turn passed, and what the user said so far. */
export interface UserTurnExceededContext {
  reason: 'maxWords' | 'maxDuration';
  transcript: string;
  words: number;
  /** ms since the turn's first speech. */
  durationMs: number;
  /** A copy of the agent's context (the ongoing turn is not in it yet). */
  chatCtx: ChatContext;
}

export interface AgentOptions {
  instructions: string;
  /** Stable id used in handoff items; defaults to the class name in snake_case (`default_agent` for Agent). */
  id?: string;
  /** Function tools and toolsets (flattened for the LLM). */
  tools?: Tool[];
  chatCtx?: ChatContext;
  /** Per-agent models; undefined inherits the session's, null disables it for this agent. */
  llm?: LLM | null;
  tts?: TTS | null;
  stt?: STT | null;
  vad?: VAD | null;
  allowInterruptions?: boolean;
  minConsecutiveSpeechDelay?: number;
  /** Overrides of the session's `turnHandling` while this agent is active (key by key; same shape). */
  turnHandling?: TurnHandlingOptions;
}

const snakeCase = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/**
 * An agent: instructions, tools and hooks. Subclass it and override the hooks. A tool that returns another Agent
 * hands the conversation over to it.
 */
export class Agent<UserData = any> {
  readonly id: string;
  instructions: string;
  tools: Tool[];
  readonly chatCtx: ChatContext;
  readonly llm?: LLM | null;
  readonly tts?: TTS | null;
  readonly stt?: STT | null;
  readonly vad?: VAD | null;
  readonly allowInterruptions?: boolean;
  readonly minConsecutiveSpeechDelay?: number;
  readonly turnHandling?: TurnHandlingOptions;
  /** @internal set while the agent's activity runs */
  _session: AgentSession<UserData> | null = null;
  /** @internal the running activity, for live updates */
  _activity: AgentActivityLink | null = null;

  constructor(opts: AgentOptions) {
    if (typeof opts?.instructions !== 'string') throw new TypeError('Agent needs `instructions` (a string)');
    this.instructions = opts.instructions;
    this.id = opts.id ?? (this.constructor === Agent ? 'default_agent' : snakeCase(this.constructor.name));
    this.tools = [...(opts.tools ?? [])];
    this.chatCtx = opts.chatCtx ? opts.chatCtx.copy() : ChatContext.empty();
    this.llm = opts.llm;
    this.tts = opts.tts;
    this.stt = opts.stt;
    this.vad = opts.vad;
    this.allowInterruptions = opts.allowInterruptions;
    this.minConsecutiveSpeechDelay = opts.minConsecutiveSpeechDelay;
    if (opts.turnHandling) resolveSessionOptions({ turnHandling: opts.turnHandling }); // bad values throw here, not at the handoff
    this.turnHandling = opts.turnHandling;
  }

  /** The session running this agent; throws when the agent is not active. */
  get session(): AgentSession<UserData> {
    if (!this._session) throw new Error(`agent ${this.id} is not running in a session`);
    return this._session;
  }

  /** Runs when the agent becomes active, as a speech task (say/generateReply here speak in order). */
  onEnter(): void | Promise<void> {}

  /** Runs when the agent is replaced or the session drains, before its activity stops. */
  onExit(): void | Promise<void> {}

  /**
   * Runs after the user's turn is committed, before the reply. `turnCtx` is a copy used for this reply only;
   * throw `StopResponse` to skip the reply.
   */
  onUserTurnCompleted(_turnCtx: ChatContext, _newMessage: ChatMessage): void | Promise<void> {}

  // ------------------------------------------------------------------ pipeline nodes

  /**
   * The default nodes, for an override that wraps them: `Agent.default.llmNode(this, chatCtx, tools, settings)`
   * (or `super.llmNode(chatCtx, tools, settings)`).
   */
  static readonly default = defaultNodes;

  /** Audio → speech events. Return nothing to hear nothing. */
  sttNode(audio$: NodeStream<AudioFrame>, modelSettings: ModelSettings): STTNodeResult {
    return defaultNodes.sttNode(this, audio$, modelSettings);
  }

  /**
   * Context and tools → the reply: a string, or a stream of strings, LLM chunks and `FlushSentinel`s (each ends a
   * spoken segment). Return nothing for no reply.
   */
  llmNode(chatCtx: ChatContext, tools: readonly FunctionTool[], modelSettings: ModelSettings): LLMNodeResult {
    return defaultNodes.llmNode(this, chatCtx, tools, modelSettings);
  }

  /** Text of one segment → audio frames. Return nothing to speak no audio (the text still goes out). */
  ttsNode(text$: NodeStream<string>, modelSettings: ModelSettings): TTSNodeResult {
    return defaultNodes.ttsNode(this, text$, modelSettings);
  }

  /** Text of one segment → the transcript shown (and kept as what was said). Return nothing to show none. */
  transcriptionNode(text$: NodeStream<string>, modelSettings: ModelSettings): TranscriptionNodeResult {
    return defaultNodes.transcriptionNode(this, text$, modelSettings);
  }

  // ------------------------------------------------------------------ live updates

  /** New instructions; a running agent uses them from its next LLM call. */
  async updateInstructions(instructions: string): Promise<void> {
    updateInstructions(this, instructions);
  }

  /** Replaces the agent's tools and toolsets; a running agent offers them from its next LLM call. */
  async updateTools(tools: Tool[]): Promise<void> {
    updateTools(this, tools);
  }

  /** Replaces the agent's context (a running agent keeps its instructions at the head). */
  async updateChatCtx(chatCtx: ChatContext): Promise<void> {
    updateChatCtx(this, chatCtx);
  }

  /**
   * Runs once per user turn when the ongoing turn passes `turnHandling.userTurnLimit` (maxWords / maxDuration).
   * The default does nothing; e.g. `this.session.generateReply({ instructions: 'Politely cut in…' })` to take over.
   */
  onUserTurnExceeded(_turnCtx: UserTurnExceededContext): void | Promise<void> {}
}

// The default nodes are tagged so the pipeline calls the models directly when an agent overrides none of them.
for (const name of ['sttNode', 'llmNode', 'ttsNode', 'transcriptionNode'] as const) {
  Object.defineProperty(Agent.prototype[name], DEFAULT_NODE, { value: true });
}
