/**
 * What the parts of a session see of each other. The session facade implements `SessionHost`, the activity
 * implements `ActivityHost`; the reply, recognition and user-turn modules depend on these interfaces only, so the
 * session files import no cycle (type-only imports included).
 */
import type { Observable } from 'rxjs';
import type { Actor, AnyActorRef } from 'xstate';
import type { AudioOutputChannel } from '../../actors/audioOutputChannel.ts';
import type { activityMachine } from '../../machines/activity.ts';
import type { userTurnMachine } from '../../machines/userTurn.ts';
import type { Agent } from '../agent.ts';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioInput, AudioOutput, TextOutput } from '../io/types.ts';
import type { ChatContext, ChatItem, ChatMessage } from '../llm/chatContext.ts';
import type { FunctionTool, ToolChoice } from '../llm/tools.ts';
import type { Tool } from '../llm/toolset.ts';
import type { NoiseCancellation } from '../noise/rnnoise.ts';
import type { LLM, STT, TTS, VAD } from '../providers/types.ts';
import type { TextTransform } from '../transcription/textTransforms.ts';
import type { AgentSessionEvent, ErrorSource, UserState } from './events.ts';
import type { ResolvedSessionOptions } from './options.ts';
import type { SpeechHandle } from './speechHandle.ts';
import type { TranscriptPacer } from './transcriptPacer.ts';

type EventInit = { type: AgentSessionEvent['type'] } & Record<string, unknown>;

export interface SessionHost {
  readonly options: ResolvedSessionOptions;
  readonly llm: LLM | null;
  readonly tts: TTS | null;
  readonly stt: STT | null;
  readonly vad: VAD | null;
  readonly tools: readonly Tool[];
  readonly history: ChatContext;
  readonly input: { audio: AudioInput | null };
  readonly output: { audio: AudioOutput | null; transcription: TextOutput | null };
  readonly noiseCancellation: NoiseCancellation | null;
  readonly userdata: unknown;
  readonly _ttsTextTransform: TextTransform;
  /** The session's root actor: every actor of the session is created in its system, under it. */
  readonly _rootActor: AnyActorRef;
  _emit(ev: EventInit): void;
  _reportError(source: ErrorSource, label: string, e: unknown, recoverable: boolean): void;
  _addToHistory(item: ChatItem, announce: boolean): void;
  _outputChannel(): AudioOutputChannel | null;
  _adaptAudioForOutput(frames: Observable<AudioFrame>, out: AudioOutput): Observable<AudioFrame>;
  _onAgentState(act: ActivityHost, state: string): void;
  _onUserState(act: ActivityHost, state: UserState, at?: number): void;
  /** A final transcript was heard (the STT works, and the user is present). */
  _userHeard(): void;
  /** The agent spoke: the LLM and TTS work. */
  _agentSpoke(): void;
  updateAgent(agent: Agent): void;
  /** Set by a RoomIO: decorates each user turn's message (its video input attaches the latest frame). */
  _onUserTurnMessage?: ((message: ChatMessage) => void) | null;
  /** An AgentTask was awaited: returns its key (throws when the session does not run). */
  _startTask(task: RunnableTask): string;
  /** The task with this key called `complete()` (with an error: it failed). */
  _taskFinished(key: string, error: Error | null): void;
}

/** What the runtime needs of an AgentTask (src/task/agentTask.ts implements it). */
export interface RunnableTask extends Agent {
  /** The task was given its own chat context; otherwise it starts with a copy of its caller's. */
  readonly _ownChatCtx: boolean;
  /** Function calls and their outputs go back to the caller's context too (default: only messages). */
  readonly _preserveFunctionCalls: boolean;
  /** Called once, after the caller resumed: `error` when the runtime ended the task (closed, cancelled, failed). */
  _settle(error: Error | null): void;
}

export interface ActivityHost {
  readonly agent: Agent;
  readonly session: SessionHost;
  /** The session's options with the agent's `turnHandling` over them: what this activity runs with. */
  readonly options: ResolvedSessionOptions;
  readonly actor: Actor<typeof activityMachine>;
  readonly userTurn: Actor<typeof userTurnMachine>;
  readonly llm: LLM | null;
  readonly tts: TTS | null;
  readonly stt: STT | null;
  readonly vad: VAD | null;
  readonly tools: FunctionTool[];
  readonly handles: Map<string, SpeechHandle>;
  readonly closed: boolean;
  /** The segment playing now, for pausing its transcript with its audio. */
  playing: { pacer: TranscriptPacer; handle: SpeechHandle } | null;
  readonly outputPaused: boolean;
  pauseOutput(): void;
  resumeOutput(): void;
  /** Resolves when the user does not hold the floor (or the speech was interrupted or ended). */
  floorFree(h: SpeechHandle): Promise<void>;
  toolStarted(): void;
  toolFinished(): void;
  scheduleSpeech(h: SpeechHandle, opts?: { force?: boolean }): void;
  stepDone(h: SpeechHandle, toolCalls: number): void;
  /** The step's tool outputs were answered (a tool reply queued, or none). */
  toolStepDone(h: SpeechHandle): void;
  /** Tracks a task of this activity: close waits for it (within its bound). */
  track<T>(p: Promise<T>): Promise<T>;
  /** Aborted when the activity closes: tools and hooks get it. */
  readonly closeSignal: AbortSignal;
  /** A new speech of this activity (a tool's interim update, a filler). */
  say(text: string, opts?: { allowInterruptions?: boolean; userInitiated?: boolean }): SpeechHandle;
  generateReply(opts?: GenerateReplyOptions): SpeechHandle;
}

/** Options of a reply; `schedule: false` and `userInitiated` are the framework's own. */
export interface GenerateReplyOptions {
  userInput?: string;
  userMessage?: ChatMessage;
  instructions?: string;
  toolChoice?: ToolChoice;
  allowInterruptions?: boolean;
  chatCtx?: ChatContext;
  /** false: generate now, schedule later (preemptive generation). */
  schedule?: boolean;
  /** The application asked for it (default), or the framework (a user turn's reply). */
  userInitiated?: boolean;
  /** Preemptive TTS: synthesise the first step's audio before the speech is scheduled (it plays only after). */
  prefetchTts?: boolean;
}

