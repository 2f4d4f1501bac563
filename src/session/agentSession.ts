import { Observable, Subject } from 'rxjs';
import { createActor, fromPromise, waitFor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { sessionMachine, type CloseReason } from '../../machines/session.ts';
import type { Agent } from '../agent.ts';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioInput, AudioOutput, TextOutput } from '../io/types.ts';
import { ChatContext, type ChatItem, type ChatMessage } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import type { FunctionTool, ToolChoice } from '../llm/tools.ts';
import type { LLM, STT, TTS, VAD } from '../providers/types.ts';
import { resolveLLM, resolveSTT, resolveTTS } from '../providers/resolve.ts';
import { AgentActivity } from './agentActivity.ts';
import type { AgentSessionEvent, AgentSessionEventType, AgentState, ErrorSource, EventOf, UserState } from './events.ts';
import { resolveSessionOptions, type AgentSessionOptions, type ResolvedSessionOptions } from './options.ts';
import { speechScope } from './speechContext.ts';
import type { SpeechHandle } from './speechHandle.ts';
import type { SayInput } from './reply.ts';
import { adaptAudioForOutput } from './outputFormat.ts';
import type { NoiseCancellation } from '../noise/rnnoise.ts';
import { createAudioOutputChannel, type AudioOutputChannel } from '../../actors/audioOutputChannel.ts';
import { resolveTextTransforms } from './textPipeline.ts';
import { UsageCollector, type SessionUsage } from './usage.ts';
import type { TextTransform } from '../transcription/textTransforms.ts';

type Listener<T extends AgentSessionEventType> = (ev: EventOf<T>) => void;
type EventInit<E> = E extends { createdAt: number } ? Omit<E, 'createdAt'> & { createdAt?: number } : never;

export interface StartOptions {
  agent: Agent;
  /** An `@livekit/rtc-node` Room: the session is served there through a RoomIO (see src/room). */
  room?: unknown;
  /** `RoomInputOptions` (src/room/options.ts). */
  roomInputOptions?: unknown;
  /** `RoomOutputOptions` (src/room/options.ts). */
  roomOutputOptions?: unknown;
}

/**
 * A voice conversation: audio in → VAD/STT → end of turn → LLM → tools → TTS → audio out, driven by the
 * `session`, `activity`, `userTurn` and `speech` statecharts. See README for the event list and semantics.
 */
export class AgentSession<UserData = unknown> {
  readonly options: ResolvedSessionOptions;
  readonly stt: STT | null;
  readonly llm: LLM | null;
  readonly tts: TTS | null;
  readonly vad: VAD | null;
  readonly tools: FunctionTool[];
  readonly history = new ChatContext();
  /** Every event, as an RxJS stream. */
  readonly events$: Observable<AgentSessionEvent>;
  readonly input: { audio: AudioInput | null };
  readonly output: { audio: AudioOutput | null; transcription: TextOutput | null };
  /** @internal the TTS text transform chain, resolved once */
  readonly _ttsTextTransform: TextTransform;
  /** Applied to the input audio before recognition. */
  readonly noiseCancellation: NoiseCancellation | null;
  /** @internal */
  readonly _inspect: Observer<InspectionEvent> | ((e: InspectionEvent) => void) | undefined;
  private readonly actor: Actor<typeof sessionMachine>;
  private readonly subject = new Subject<AgentSessionEvent>();
  private readonly listeners = new Map<string, Set<(ev: any) => void>>();
  private activity: AgentActivity | null = null;
  private nextActivity: AgentActivity | null = null;
  private agent: Agent | null = null;
  private _agentState: AgentState = 'initializing';
  private _userState: UserState = 'listening';
  private _userdata: UserData | undefined;
  private audioIn: AudioInput | null = null;
  private errorCounts = { llm: 0, stt: 0, tts: 0 };
  private readonly usageCollector = new UsageCollector();
  private outputChannel: { device: AudioOutput; channel: AudioOutputChannel; stop(): void } | null = null;
  private startError: unknown = null;
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
    this._inspect = opts.inspect;
    this.noiseCancellation = opts.noiseCancellation ?? null;
    this._videoSampler = opts.videoSampler;
    this._ttsTextTransform = resolveTextTransforms(this.options.ttsTextTransforms);
    this.events$ = this.subject.asObservable();
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
    this.actor = this.createSessionActor();
    this.actor.start();
  }

  private createSessionActor(): Actor<typeof sessionMachine> {
    return createActor(
      sessionMachine.provide({
        actors: {
          startSession: fromPromise(async () => this.startImpl()),
          handoff: fromPromise(async ({ input }: { input: { agent: unknown } }) => this.handoffImpl(input.agent as Agent)),
          closeSession: fromPromise(async ({ input }: { input: { reason: CloseReason; error: unknown; drain: boolean } }) =>
            this.closeImpl(input.reason, input.error, input.drain),
          ),
        },
        actions: {
          fenceCurrentActivity: () => this.activity?.actor.send({ type: 'BLOCK_TURNS' }),
          markUserAway: () => this.activity?.userTurn.send({ type: 'USER_AWAY' }),
          reportStartFailure: (_, { error }) => (this.startError = error),
        },
      }),
      { input: { userAwayTimeout: this.options.userAwayTimeout }, inspect: this._inspect },
    );
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
    if (!this.agent) throw new Error('the session has not started');
    return this.agent;
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

  // ------------------------------------------------------------------ events

  on<T extends AgentSessionEventType>(type: T, fn: Listener<T>): this {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn);
    return this;
  }
  off<T extends AgentSessionEventType>(type: T, fn: Listener<T>): this {
    this.listeners.get(type)?.delete(fn);
    return this;
  }
  once<T extends AgentSessionEventType>(type: T, fn: Listener<T>): this {
    const wrapped: Listener<T> = (ev) => {
      this.off(type, wrapped);
      fn(ev);
    };
    return this.on(type, wrapped);
  }

  /** @internal */
  _emit<E extends AgentSessionEvent>(init: EventInit<E> | Omit<E, 'createdAt'>): void {
    const ev = { createdAt: Date.now(), ...init } as AgentSessionEvent;
    for (const fn of [...(this.listeners.get(ev.type) ?? [])]) {
      try {
        fn(ev);
      } catch (e) {
        // A throwing listener must not break the conversation.
        if (ev.type !== 'error') this._reportError('session', `listener of ${ev.type}`, e, true);
      }
    }
    this.subject.next(ev);
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
    this.agent = opts.agent;
    this.startError = null;
    this.actor.send({ type: 'START' });
    await waitFor(this.actor, (s) => s.matches('running') || s.matches('closed'));
    if (this.startError) throw this.startError;
  }

  private async startImpl(): Promise<void> {
    const agent = this.agent!;
    this._outputChannel(); // the output channel actor follows the device from the start
    const act = new AgentActivity(agent, this);
    this.activity = act;
    this._addToHistory({ type: 'agent_handoff', id: shortId('item_'), newAgentId: agent.id, createdAt: Date.now() }, act, true);
    await act.start();
  }

  private async handoffImpl(agent: Agent): Promise<void> {
    const old = this.activity;
    const next = new AgentActivity(agent, this);
    this.nextActivity = next;
    if (old) {
      await old.drain();
      await old.close();
    }
    this.activity = next;
    this.nextActivity = null;
    this.agent = agent;
    this._addToHistory(
      { type: 'agent_handoff', id: shortId('item_'), oldAgentId: old?.agent.id, newAgentId: agent.id, createdAt: Date.now() },
      next,
      true,
    );
    await next.start();
    if (old?.fencedTurn) next.takeOverTurn(old.fencedTurn);
  }

  private async closeImpl(reason: CloseReason, error: unknown, drain: boolean): Promise<void> {
    const act = this.activity;
    const next = this.nextActivity;
    try {
      if (act) {
        if (!drain) await act.interrupt({ force: true }).catch(() => undefined);
        await act.drain();
        await act.close();
      }
      await next?.close();
      this.outputChannel?.stop();
      this.outputChannel = null;
      this.output.audio?.close?.();
    } catch (e) {
      // Closing must always reach `closed`; a failure on the way is reported, not thrown.
      this._emit({ type: 'error', error: e instanceof Error ? e : new Error(String(e)), source: 'session', label: 'close', recoverable: false });
    } finally {
      this.activity = null;
      this.nextActivity = null;
      this._emit({ type: 'close', reason, error: error instanceof Error ? error : error ? new Error(String(error)) : null });
      // Back to the constructed state, silently: a closed session can start again.
      this._agentState = 'initializing';
      this._userState = 'listening';
      this.errorCounts = { llm: 0, stt: 0, tts: 0 };
    }
  }

  /** Replaces the current agent. New user turns stop reaching the old agent at once. */
  updateAgent(agent: Agent): void {
    if (this.lifecycle !== 'running') throw new Error('updateAgent() needs a running session');
    this.actor.send({ type: 'UPDATE_AGENT', agent });
  }

  /** Lets the current speeches (and tool replies) finish, then closes. */
  async drain(): Promise<void> {
    if (!this.activity) throw new Error('drain() needs a started session');
    await this.close({ drain: true });
  }

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
    if (scope?.activity instanceof AgentActivity && !scope.activity.closedOrClosing) return scope.activity;
    const a = this.nextActivity ?? this.activity;
    if (!a) throw new Error('the session is not running (call start() first)');
    return a;
  }

  say(text: SayInput, opts: { allowInterruptions?: boolean; addToChatCtx?: boolean; audio?: Observable<AudioFrame> } = {}): SpeechHandle {
    return this.targetActivity().say(text, opts);
  }

  generateReply(opts: { userInput?: string; instructions?: string; toolChoice?: ToolChoice; allowInterruptions?: boolean } = {}): SpeechHandle {
    return this.targetActivity().generateReply(opts);
  }

  /** Interrupts the current and queued speeches; resolves when they have stopped. */
  interrupt(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.activity) return Promise.resolve();
    return this.activity.interrupt(opts);
  }

  /** Manual turn detection: ends the user's turn now. */
  commitUserTurn(): void {
    this.activity?.userTurn.send({ type: 'COMMIT_TURN' });
  }

  /** Drops the transcript collected for the current user turn. */
  clearUserTurn(): void {
    this.activity?.userTurn.send({ type: 'CLEAR_TURN' });
  }

  // ------------------------------------------------------------------ internal, used by activities

  /** @internal */
  _addToHistory(item: ChatItem, from: AgentActivity, announce: boolean): void {
    void from;
    this.history.insert(item);
    if (announce && (item.type === 'message' || item.type === 'agent_handoff')) this._emit({ type: 'conversation_item_added', item });
  }

  /** @internal a user turn that gets no reply still belongs in the history */
  _addUserMessageWithoutReply(act: AgentActivity, msg: ChatMessage): void {
    if (!msg.content.join('').trim()) return;
    act.agent.chatCtx.insert(msg);
    this._addToHistory(msg, act, true);
  }

  /** @internal */
  _onActivitySnapshot(act: AgentActivity, state: string): void {
    if (act !== this.activity || state === 'initializing') return;
    this.setAgentState(state as AgentState);
  }

  /** @internal */
  _onUserTurnSnapshot(act: AgentActivity, state: string): void {
    if (act !== this.activity) return;
    this.setUserState(state as UserState, act.userStateAt ?? undefined);
  }

  private setAgentState(s: AgentState): void {
    if (s === this._agentState) return;
    const old = this._agentState;
    this._agentState = s;
    if (s === 'speaking') this.errorCounts.llm = this.errorCounts.tts = 0;
    this._emit({ type: 'agent_state_changed', oldState: old, newState: s });
    this._statesChanged();
  }

  private setUserState(s: UserState, createdAt?: number): void {
    if (s === this._userState) return;
    const old = this._userState;
    this._userState = s;
    this._emit({ type: 'user_state_changed', oldState: old, newState: s, ...(createdAt !== undefined ? { createdAt } : {}) });
    this._statesChanged();
  }

  /** @internal keeps the away timer in step with both states and running tools */
  _statesChanged(): void {
    if (this.options.userAwayTimeout === null) return; // the away timer is the only consumer
    this.actor.send({
      type: 'STATES_CHANGED',
      agentState: this._agentState,
      userState: this._userState,
      toolsRunning: this.activity?.toolsRunning ?? 0,
    });
  }

  /** @internal */
  _finalTranscript(): void {
    if (this._agentState === 'listening' && this._userState === 'listening') this.actor.send({ type: 'FINAL_TRANSCRIPT' });
  }

  /** @internal */
  _sttRecovered(): void {
    this.errorCounts.stt = 0;
  }

  /** @internal the channel actor of the current audio output (created for the device in `output.audio`) */
  _outputChannel(): AudioOutputChannel | null {
    const device = this.output.audio;
    if (this.outputChannel?.device !== device) {
      this.outputChannel?.stop();
      this.outputChannel = device ? { device, ...createAudioOutputChannel(device, this._inspect) } : null;
    }
    return this.outputChannel?.channel ?? null;
  }

  /** @internal */
  _adaptAudioForOutput(frames: Observable<AudioFrame>, out: AudioOutput): Observable<AudioFrame> {
    return adaptAudioForOutput(frames, out);
  }

  /**
   * @internal Every failure ends here: an `error` event, and for unrecoverable model errors a count that closes
   * the session once it exceeds `maxUnrecoverableErrors`.
   */
  _reportError(source: ErrorSource, label: string, e: unknown, recoverable: boolean): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this._emit({ type: 'error', error, source, label, recoverable });
    const lc = this.lifecycle;
    if (recoverable || lc === 'closing' || lc === 'closed') return;
    if (source === 'llm' || source === 'stt' || source === 'tts') {
      this.errorCounts[source]++;
      if (this.errorCounts[source] > this.options.maxUnrecoverableErrors) {
        this.actor.send({ type: 'CLOSE', reason: 'error', error });
      }
    }
  }
}
