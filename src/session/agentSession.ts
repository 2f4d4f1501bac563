import type { Observable } from 'rxjs';
import { waitFor, type Actor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { errorInfo, sessionMachine, type CloseReason, type ErrorInfo, type ModelKind } from '../../machines/session.ts';
import type { Agent } from '../agent.ts';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioInput, AudioOutput, TextOutput } from '../io/types.ts';
import { ChatContext, type ChatItem, type ChatMessage } from '../llm/chatContext.ts';
import type { Tool, ToolChoice } from '../llm/tools.ts';
import type { LLM, STT, TTS, VAD } from '../providers/types.ts';
import { resolveLLM, resolveSTT, resolveTTS } from '../providers/resolve.ts';
import { AgentActivity } from './agentActivity.ts';
import { createSessionActor, type SessionEffects } from './sessionActor.ts';
import { ActivityStack } from './activityStack.ts';
import { AgentTaskClosedError, TaskRuns } from './taskRuns.ts';
import { EventBus, type Listener } from './eventBus.ts';
import { recordHandoff } from './handoffRecord.ts';
import { runTurn, type PendingRun, type RunOptions } from './run.ts';
import type { StartOptions } from './startOptions.ts';

export type { StartOptions };
import { PendingAgents } from './pendingAgents.ts';
import type { AgentSessionEvent, AgentSessionEventType, AgentState, ErrorSource, UserState } from './events.ts';
import type { ActivityHost, RunnableTask, SessionHost } from './host.ts';
import { resolveSessionOptions, type AgentSessionOptions, type ResolvedSessionOptions } from './options.ts';
import { speechScope } from './speechContext.ts';
import type { SpeechHandle } from './speechHandle.ts';
import type { SayInput } from './reply.ts';
import { adaptAudioForOutput, prepareAudioOutput } from './outputFormat.ts';
import type { NoiseCancellation } from '../noise/rnnoise.ts';
import { createAudioOutputChannel, type AudioOutputChannel } from '../../actors/audioOutputChannel.ts';
import { resolveTextTransforms } from './textPipeline.ts';
import { UsageCollector, type SessionUsage } from './usage.ts';
import type { TextTransform } from '../transcription/textTransforms.ts';

type EventInit<E> = E extends { createdAt: number } ? Omit<E, 'createdAt'> & { createdAt?: number } : never;

const MODEL_KINDS: readonly string[] = ['llm', 'stt', 'tts'];

/**
 * A voice conversation: audio in → VAD/STT → end of turn → LLM → tools → TTS → audio out. A facade over one actor
 * system: the `session` statechart is its root; the agent activities, user turns, recognition, speeches and the
 * audio output channel are actors under it. See README for the event list and semantics.
 */
export class AgentSession<UserData = unknown> implements SessionHost {
  readonly options: ResolvedSessionOptions;
  readonly stt: STT | null;
  readonly llm: LLM | null;
  readonly tts: TTS | null;
  readonly vad: VAD | null;
  readonly tools: Tool[];
  readonly history = new ChatContext();
  /** Every event, as an RxJS stream. */
  readonly events$: Observable<AgentSessionEvent>;
  readonly input: { audio: AudioInput | null };
  readonly output: { audio: AudioOutput | null; transcription: TextOutput | null };
  /** @internal the TTS text transform chain, resolved once */
  readonly _ttsTextTransform: TextTransform;
  /** Applied to the input audio before recognition. */
  readonly noiseCancellation: NoiseCancellation | null;
  private readonly actor: Actor<typeof sessionMachine>;
  private readonly bus: EventBus;
  /** The agent activities: the one with the conversation, callers paused under running tasks, the next one. */
  private readonly stack = new ActivityStack(this);
  private readonly taskRuns = new TaskRuns(this, this.stack);
  private _agentState: AgentState = 'initializing';
  private _userState: UserState = 'listening';
  private _userdata: UserData | undefined;
  private audioIn: AudioInput | null = null;
  private readonly usageCollector = new UsageCollector();
  private outputChannel: { device: AudioOutput; channel: AudioOutputChannel; stop(): void } | null = null;
  private startError: unknown = null;
  /** Agents waiting for a handoff, by the key the session machine holds (its context is plain data). */
  private readonly pendingAgents = new PendingAgents();
  /** The error behind the last MODEL_FAILED, so a close for it carries the original Error object. */
  private lastFatal: Error | null = null;
  /** @internal the inspection observer (RoomIO's own actors report to it too) */
  readonly _inspect: Observer<InspectionEvent> | ((e: InspectionEvent) => void) | undefined;
  /** @internal set by a RoomIO: decorates each user turn's message (its video input attaches the latest frame). */
  _onUserTurnMessage: ((message: ChatMessage) => void) | null = null;
  /** @internal the `videoSampler` option as given (resolved by the RoomIO's video input) */
  readonly _videoSampler: AgentSessionOptions['videoSampler'];

  constructor(opts: AgentSessionOptions<UserData> = {}) {
    this.options = resolveSessionOptions(opts as AgentSessionOptions<unknown>);
    this.stt = opts.stt == null ? null : resolveSTT(opts.stt);
    this.llm = opts.llm == null ? null : resolveLLM(opts.llm);
    this.tts = opts.tts == null ? null : resolveTTS(opts.tts);
    this.vad = opts.vad ?? null;
    this.tools = [...(opts.tools ?? [])];
    this._userdata = opts.userdata;
    this.noiseCancellation = opts.noiseCancellation ?? null;
    this._inspect = opts.inspect;
    this._videoSampler = opts.videoSampler;
    this._ttsTextTransform = resolveTextTransforms(this.options.ttsTextTransforms);
    this.bus = new EventBus((type, e) => this._reportError('session', `listener of ${type}`, e, true));
    this.events$ = this.bus.events$;
    const self = this;
    this.input = {
      get audio() {
        return self.audioIn;
      },
      set audio(a: AudioInput | null) {
        self.audioIn = a;
        if (a) self.activity?.attachAudio(a);
        else self.activity?.detachAudio();
      },
    };
    this.output = { audio: null, transcription: null };
    this.actor = this.createSessionActor(opts.inspect);
    this.actor.start();
  }

  private get activity(): AgentActivity | null {
    return this.stack.current;
  }

  private createSessionActor(inspect: Observer<InspectionEvent> | ((e: InspectionEvent) => void) | undefined): Actor<typeof sessionMachine> {
    const effects: SessionEffects = {
      start: () => this.startImpl(),
      handoff: (agent) => this.stack.handoff(this.pendingAgents.take(agent)),
      startTask: (agent, signal) =>
        this.taskRuns.start(agent, signal).catch((e) => {
          this.taskRuns.failed(agent, e);
          throw e;
        }),
      endTask: (agent, cancelled) => this.taskRuns.end(agent, cancelled),
      close: (reason, error, drain) => this.closeImpl(reason, error, drain),
      fenceCurrentActivity: () => this.activity?.actor.send({ type: 'BLOCK_TURNS' }),
      markUserAway: () => this.activity?.userTurn.send({ type: 'USER_AWAY' }),
      startFailed: (error) => (this.startError = error),
      settleTask: (agent) => this.taskRuns.settle(agent),
      refuseHandoff: (agent) => {
        const to = this.pendingAgents.take(agent);
        const msg = `cannot hand off to ${to.id} while AgentTask ${this.stack.agent?.id} runs: complete the task, then hand off from its caller`;
        this._reportError('session', 'handoff', new Error(msg), true);
      },
    };
    return createSessionActor(effects, { userAwayTimeout: this.options.userAwayTimeout, maxUnrecoverableErrors: this.options.maxUnrecoverableErrors }, inspect);
  }

  // ------------------------------------------------------------------ public state

  /** What the session has used of each model so far (tokens, characters, audio), per model. */
  get usage(): SessionUsage {
    return this.usageCollector.snapshot();
  }
  get agentState(): AgentState {
    return this._agentState;
  }
  get userState(): UserState {
    return this._userState;
  }
  get currentAgent(): Agent {
    if (!this.stack.agent) throw new Error('the session has not started');
    return this.stack.agent;
  }
  /** The speech playing or authorised now, if any. */
  get currentSpeech(): SpeechHandle | null {
    const id = this.activity?.actor.getSnapshot().context.current;
    return (id && this.activity?.handles.get(id)) || null;
  }
  get userdata(): UserData {
    if (this._userdata === undefined) throw new Error('session.userdata was never set (pass `userdata` to AgentSession)');
    return this._userdata;
  }
  set userdata(v: UserData) {
    this._userdata = v;
  }
  /** The session lifecycle state: initializing, starting, running, closing or closed. */
  get lifecycle(): string {
    const v = this.actor.getSnapshot().value;
    return typeof v === 'string' ? v : Object.keys(v)[0]!;
  }
  /** The root of the session's actor system (for inspection and tests). */
  get _rootActor(): AnyActorRef {
    return this.actor;
  }

  // ------------------------------------------------------------------ events

  on<T extends AgentSessionEventType>(type: T, fn: Listener<T>): this {
    this.bus.on(type, fn);
    return this;
  }
  off<T extends AgentSessionEventType>(type: T, fn: Listener<T>): this {
    this.bus.off(type, fn);
    return this;
  }
  once<T extends AgentSessionEventType>(type: T, fn: Listener<T>): this {
    this.bus.once(type, fn);
    return this;
  }

  /** @internal */
  _emit<E extends AgentSessionEvent>(init: EventInit<E> | Omit<E, 'createdAt'>): void {
    const ev = { createdAt: Date.now(), ...init } as AgentSessionEvent;
    this.bus.emit(ev);
    if (ev.type === 'metrics_collected' && this.usageCollector.add(ev.metrics)) this._emit({ type: 'session_usage_updated', usage: this.usage });
  }

  // ------------------------------------------------------------------ lifecycle

  async start(opts: StartOptions): Promise<void> {
    const lc = this.lifecycle;
    if (lc === 'running' || lc === 'starting') return;
    if (lc === 'closing') await waitFor(this.actor, (s) => s.matches('closed'));
    if (!opts?.agent) throw new TypeError('start() needs { agent }');
    // Loaded on demand: the LiveKit SDK (native bindings) is only needed by sessions that serve a room.
    if (opts.room !== undefined) await (await import('../room/attach.ts')).attachRoom(this, opts);
    this.stack.agent = opts.agent;
    this.startError = null;
    this.actor.send({ type: 'START' });
    await waitFor(this.actor, (s) => s.matches('running') || s.matches('closed'));
    if (this.startError) throw this.startError;
  }

  private async startImpl(): Promise<void> {
    this._outputChannel(); // the output channel actor follows the device from the start
    await this.stack.start(this.stack.agent!);
  }

  /** @internal an AgentTask was awaited: the session machine starts it when the conversation is free. */
  _startTask(task: RunnableTask): string {
    const lc = this.lifecycle;
    if (lc !== 'running' && lc !== 'starting') throw new AgentTaskClosedError(`AgentTask ${task.id} cannot start: the session is ${lc}`);
    const key = this.taskRuns.add(task);
    this.actor.send({ type: 'TASK_STARTED', agent: key, id: task.id });
    return key;
  }

  /** @internal the task called `complete()` */
  _taskFinished(key: string, error: Error | null): void {
    this.actor.send(error ? { type: 'TASK_FAILED', agent: key, error: errorInfo(error) } : { type: 'TASK_COMPLETED', agent: key });
  }

  private async closeImpl(reason: CloseReason, error: ErrorInfo | null, drain: boolean): Promise<void> {
    try {
      await this.stack.close(drain, this.taskRuns);
      this.outputChannel?.stop();
      this.outputChannel = null;
      this.output.audio?.close?.();
    } catch (e) {
      // Closing must always reach `closed`; a failure on the way is reported, not thrown.
      this._emit({ type: 'error', error: e instanceof Error ? e : new Error(String(e)), source: 'session', label: 'close', recoverable: false });
    } finally {
      this.taskRuns.rejectWaiting();
      const original = error && this.lastFatal?.message === error.message ? this.lastFatal : null;
      this._emit({ type: 'close', reason, error: error ? (original ?? Object.assign(new Error(error.message), { name: error.name })) : null });
      this.lastFatal = null;
      // Back to the constructed state, silently: a closed session can start again.
      this._agentState = 'initializing';
      this._userState = 'listening';
    }
  }

  /** Replaces the current agent. New user turns stop reaching the old agent at once. */
  updateAgent(agent: Agent): void {
    if (this.lifecycle !== 'running') throw new Error('updateAgent() needs a running session');
    this.actor.send({ type: 'UPDATE_AGENT', agent: this.pendingAgents.add(agent) });
  }

  /** Lets the current speeches (and tool replies) finish, then closes. */
  async drain(): Promise<void> {
    if (!this.activity) throw new Error('drain() needs a started session');
    await this.close({ drain: true });
  }

  /** Closes the session; resolves within `closeTimeout` of user code that does not stop (plus any drain). */
  async close(opts: { drain?: boolean; reason?: CloseReason } = {}): Promise<void> {
    const lc = this.lifecycle;
    if (lc !== 'closed') {
      if (lc !== 'closing') this.actor.send({ type: 'CLOSE', reason: opts.reason ?? 'user_initiated', drain: opts.drain });
      await waitFor(this.actor, (s) => s.matches('closed'));
    }
  }

  // ------------------------------------------------------------------ speech API

  /** The activity that should take a new speech: the hook's own, else the one about to start, else the current. */
  private targetActivity(): AgentActivity {
    const scope = speechScope.getStore();
    if (scope?.activity instanceof AgentActivity && !scope.activity.closed) return scope.activity;
    const a = this.stack.next ?? this.activity;
    if (!a) throw new Error('the session is not running (call start() first)');
    return a;
  }

  say(text: SayInput, opts: { allowInterruptions?: boolean; addToChatCtx?: boolean; audio?: Observable<AudioFrame> } = {}): SpeechHandle {
    return this.targetActivity().say(text, opts);
  }

  generateReply(opts: { userInput?: string; instructions?: string; toolChoice?: ToolChoice; allowInterruptions?: boolean } = {}): SpeechHandle {
    return this.targetActivity().generateReply(opts);
  }

  /** Testing, in text mode: runs one user turn and resolves with what it did (`RunResult`, see voicechart/testing). */
  run(opts: RunOptions): PendingRun {
    return runTurn(this, opts, () => this.activity);
  }

  /** Interrupts the current and queued speeches; resolves when they have stopped (rejects, never throws). */
  interrupt(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.activity) return Promise.resolve();
    return this.activity.interrupt(opts);
  }

  /** Manual turn detection: ends the user's turn now. */
  commitUserTurn(): void {
    this.activity?.userTurn.send({ type: 'COMMIT_TURN', at: Date.now() });
  }

  /** Drops the transcript collected for the current user turn. */
  clearUserTurn(): void {
    this.activity?.userTurn.send({ type: 'CLEAR_TURN' });
  }

  // ------------------------------------------------------------------ internal, used by activities

  /** @internal */
  _addToHistory(item: ChatItem, announce: boolean): void {
    this.history.insert(item);
    if (announce && (item.type === 'message' || item.type === 'agent_handoff')) this._emit({ type: 'conversation_item_added', item });
  }

  /** @internal */
  _onAgentState(act: ActivityHost, state: string): void {
    if (act !== this.activity || state === 'initializing' || state === this._agentState) return;
    const old = this._agentState;
    this._agentState = state as AgentState;
    if (state === 'speaking') this._agentSpoke();
    this._emit({ type: 'agent_state_changed', oldState: old, newState: state as AgentState });
    this.statesChanged();
  }

  /** @internal */
  _onUserState(act: ActivityHost, state: UserState, at?: number): void {
    if (act !== this.activity || state === this._userState) return;
    const old = this._userState;
    this._userState = state;
    this._emit({ type: 'user_state_changed', oldState: old, newState: state, ...(at !== undefined ? { createdAt: at } : {}) });
    this.statesChanged();
  }

  /** Keeps the away timer in step with both states. */
  private statesChanged(): void {
    if (this.options.userAwayTimeout === null) return; // the away timer is the only consumer
    this.actor.send({ type: 'STATES_CHANGED', agentState: this._agentState, userState: this._userState, toolsRunning: this.activity?.actor.getSnapshot().context.toolsRunning ?? 0 });
  }

  /** @internal */
  _userHeard(): void {
    this.actor.send({ type: 'MODEL_RECOVERED', kinds: ['stt'] });
    // The away timer is the only consumer of FINAL_TRANSCRIPT, as of STATES_CHANGED (statesChanged above).
    if (this.options.userAwayTimeout === null) return;
    if (this._agentState === 'listening' && this._userState === 'listening') this.actor.send({ type: 'FINAL_TRANSCRIPT' });
  }

  /** @internal */
  _agentSpoke(): void {
    this.actor.send({ type: 'MODEL_RECOVERED', kinds: ['llm', 'tts'] });
  }

  /** @internal the channel actor of the current audio output (created for the device in `output.audio`) */
  _outputChannel(): AudioOutputChannel | null {
    const device = this.output.audio;
    if (this.outputChannel?.device !== device) {
      this.outputChannel?.stop();
      this.outputChannel = device ? { device, ...createAudioOutputChannel(device, this.actor) } : null;
      // An output at another rate than the TTS needs the resampler: start loading it now, not at the first reply.
      prepareAudioOutput(device, this.tts?.sampleRate);
    }
    return this.outputChannel?.channel ?? null;
  }

  /** @internal */
  _adaptAudioForOutput(frames: Observable<AudioFrame>, out: AudioOutput): Observable<AudioFrame> {
    return adaptAudioForOutput(frames, out);
  }

  /**
   * @internal Every failure ends here: an `error` event; unrecoverable model errors count toward the session
   * machine's error budget, which closes the session once a kind exceeds `maxUnrecoverableErrors`.
   */
  _reportError(source: ErrorSource, label: string, e: unknown, recoverable: boolean): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this._emit({ type: 'error', error, source, label, recoverable });
    if (!recoverable && MODEL_KINDS.includes(source)) {
      this.lastFatal = error;
      this.actor.send({ type: 'MODEL_FAILED', kind: source as ModelKind, error: errorInfo(error) });
    }
  }
}
