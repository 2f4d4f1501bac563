import { ChatContext, type ChatMessage } from './llm/chatContext.ts';
import type { FunctionTool } from './llm/tools.ts';
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
  tools?: FunctionTool[];
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
  tools: FunctionTool[];
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

  /**
   * Runs once per user turn when the ongoing turn passes `turnHandling.userTurnLimit` (maxWords / maxDuration).
   * The default does nothing; e.g. `this.session.generateReply({ instructions: 'Politely cut in…' })` to take over.
   */
  onUserTurnExceeded(_turnCtx: UserTurnExceededContext): void | Promise<void> {}
}
