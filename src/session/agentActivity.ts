import { createActor, type Actor } from 'xstate';
import type { activityMachine, CurrentSpeechFacts } from '../../machines/activity.ts';
import type { userTurnMachine, UserTurnExceededInfo } from '../../machines/userTurn.ts';
import { recognitionActor } from '../../actors/recognition.ts';
import { Agent } from '../agent.ts';
import { placeInstructions } from '../agentConfig.ts';
import { sttNodeStream } from '../agentNodes.ts';
import { flattenTools, toolEntries } from '../llm/toolset.ts';
import type { AudioInput } from '../io/types.ts';
import { createMessage, type ChatContext, type ChatMessage } from '../llm/chatContext.ts';
import type { FunctionTool, ToolChoice } from '../llm/tools.ts';
import type { LLM, STT, TTS, VAD } from '../providers/types.ts';
import type { ActivityHost, GenerateReplyOptions, SessionHost } from './host.ts';
import { createActivityActors } from './activityActors.ts';
import { optionsForAgent, type ResolvedSessionOptions } from './options.ts';

export type { GenerateReplyOptions };
import { toStreamingSTT } from './providers.ts';
import { PreemptiveReplies } from './preemptive.ts';
import { routeRecognition } from './recognitionEvents.ts';
import { runReply, runSay, type SayInput } from './reply.ts';
import { SpeechHandle } from './speechHandle.ts';
import { inSpeechScope, speechScope } from './speechContext.ts';
import type { TranscriptPacer } from './transcriptPacer.ts';
import { UserTurnPipeline } from './userTurnPipeline.ts';
import { validatedInput } from './inputValidation.ts';
import { endOfTurnPrediction } from '../turn/endOfTurnPrediction.ts';
import { whenFloorFree, within } from './waits.ts';

/** Why the activity's close signal fired: tools see it as the reason of `ctx.abortSignal`. */
export class ActivityClosedError extends Error {
  override name = 'ActivityClosedError';
}

/**
 * Runs one Agent inside a session: a facade over the activity actor (a child of the session's root actor), its
 * user-turn and recognition children, and the speech children. The statecharts decide (who may speak, whether audio
 * interrupts, when a turn ends, what happens after a tool); this class wires their effects to the world.
 */
export class AgentActivity implements ActivityHost {
  readonly actor: Actor<typeof activityMachine>;
  readonly userTurn: Actor<typeof userTurnMachine>;
  readonly llm: LLM | null;
  readonly tts: TTS | null;
  readonly stt: STT | null;
  readonly vad: VAD | null;
  /** The agent's tools, session's first, toolsets flattened (replaced by `agent.updateTools`). */
  tools: FunctionTool[];
  readonly handles = new Map<string, SpeechHandle>();
  playing: { pacer: TranscriptPacer; handle: SpeechHandle } | null = null;
  /** When a VAD event changes the user state, the moment speech really started/ended (events are back-dated). */
  userStateAt: number | null = null;
  readonly turns: UserTurnPipeline;
  readonly preemptive: PreemptiveReplies;
  private readonly tasks = new Set<Promise<unknown>>();
  /** User hooks (onEnter, onExit) run apart from speech tasks: a drain waits for speeches, not for a hung hook. */
  private readonly hooks = new Set<Promise<unknown>>();
  readonly rejected = new Set<string>();
  /** The session's options with this agent's `turnHandling` over them. */
  readonly options: ResolvedSessionOptions;
  private readonly closeController = new AbortController();
  private recognition: Actor<typeof recognitionActor> | null = null;
  readonly eot: ReturnType<typeof endOfTurnPrediction>;
  private toolsRunning = 0;
  private drainPromise: Promise<void> | null = null;
  private started = false;
  closed = false;

  constructor(
    readonly agent: Agent,
    readonly session: SessionHost,
  ) {
    this.options = optionsForAgent(session.options, agent.turnHandling);
    const pick = <T>(agentValue: T | null | undefined, sessionValue: T | null): T | null =>
      agentValue === undefined ? sessionValue : agentValue;
    this.llm = pick(agent.llm, session.llm);
    this.tts = pick(agent.tts, session.tts);
    this.vad = pick(agent.vad, session.vad);
    const stt = pick(agent.stt, session.stt);
    this.stt = stt ? toStreamingSTT(stt, this.vad) : null;
    this.tools = flattenTools([...session.tools, ...agent.tools], `agent ${agent.id}`);
    this.eot = endOfTurnPrediction(this.options.turnDetector, {
      chatCtx: () => this.agent.chatCtx,
      report: (e, label) => session._reportError('turn_detector', label, e, true),
    });
    ({ actor: this.actor, userTurn: this.userTurn } = createActivityActors(this));
    this.turns = new UserTurnPipeline(this);
    this.preemptive = new PreemptiveReplies(this);
    this.userTurn.on('endOfTurn', ({ info }) => this.turns.onEndOfTurn(info));
  }

  userTurnExceeded(info: UserTurnExceededInfo): void {
    if (!this.closed) this.runHook('onUserTurnExceeded', () => this.agent.onUserTurnExceeded({ ...info, chatCtx: this.agent.chatCtx.copy() }));
  }

  /** Pausing needs the option and an output that can pause. */
  pauseEnabled(): boolean {
    const o = this.options;
    return o.resumeFalseInterruption && o.falseInterruptionTimeout !== null && !!this.session.output.audio?.canPause;
  }

  get closeSignal(): AbortSignal {
    return this.closeController.signal;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    this.agent._session = this.session as never;
    this.agent._activity = this;
    // The agent's context always starts with its current instructions (replaced when an agent is reused).
    placeInstructions(this.agent.chatCtx, this.agent.instructions);
    this.actor.subscribe((s) => this.session._onAgentState(this, s.value.agent as string));
    this.userTurn.subscribe((s) => this.session._onUserState(this, s.value.user as never, this.userStateAt ?? undefined));
    this.actor.start();
    this.userTurn.start();
    this.actor.send({ type: 'STARTED' });
    this.started = true;
    if (this.session.input.audio) this.attachAudio(this.session.input.audio);
    this.runHook('onEnter', () => this.agent.onEnter());
  }

  /**
   * Runs on_exit, stops taking new speech, and waits for every speech to finish. User code is bounded: on_exit and
   * the pending turn hook get `closeTimeout` each, and tools still running `closeTimeout` after the drain began are
   * aborted (their calls get "cancelled" outputs), so a hung tool cannot hold a handoff or a drain.
   */
  drain(): Promise<void> {
    this.drainPromise ??= (async () => {
      this.actor.send({ type: 'BLOCK_TURNS' });
      const toolLimit = setTimeout(
        () => this.closeController.abort(new ActivityClosedError('the agent was handing off or draining for longer than closeTimeout')),
        this.session.options.closeTimeout,
      );
      try {
        await this.withinCloseTimeout(this.runHook('onExit', () => this.agent.onExit()));
        this.preemptive.cancel();
        await this.withinCloseTimeout(this.turns.settled());
        this.actor.send({ type: 'PAUSE_SCHEDULING' });
        await this.settleTasks();
      } finally {
        clearTimeout(toolLimit);
      }
    })();
    return this.drainPromise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detachAudio();
    this.preemptive.cancel();
    for (const h of this.handles.values()) h.interrupt({ force: true });
    // Tools that ignore their abort signal and hooks that never return are not waited for beyond closeTimeout.
    this.closeController.abort(new ActivityClosedError('the session is closing'));
    await this.withinCloseTimeout(Promise.all([this.settleTasks(), Promise.allSettled([...this.hooks])]));
    for (const h of this.handles.values()) h._finish();
    if (this.outputPaused) this.resumeOutput();
    // Children first (only their parent may stop them), then the activity itself, through the session's root.
    this.actor.send({ type: 'STOP_CHILD', ref: this.userTurn });
    this.session._rootActor.send({ type: 'STOP_CHILD', ref: this.actor });
    if (this.agent._session === (this.session as never)) this.agent._session = null;
    if (this.agent._activity === this) this.agent._activity = null;
  }

  private withinCloseTimeout(p: Promise<unknown>): Promise<void> {
    return within(this.session.options.closeTimeout, p);
  }

  private async settleTasks(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  track<T>(p: Promise<T>): Promise<T> {
    const t = p.catch((e) => this.session._reportError('session', 'activity', e, true)) as Promise<T>;
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
    return t;
  }

  /** Resolves once the user hooks running now (onEnter, onExit) have returned. */
  hooksSettled(): Promise<void> {
    return Promise.allSettled([...this.hooks]).then(() => undefined);
  }

  runHook(name: string, fn: () => void | Promise<void>): Promise<unknown> {
    const p = inSpeechScope({ activity: this, handle: null, inTool: false, hook: name }, async () => {
      try {
        await fn();
      } catch (e) {
        this.session._reportError('session', `${this.agent.id}.${name}`, e, true);
      }
    });
    this.hooks.add(p);
    void p.finally(() => this.hooks.delete(p));
    return p;
  }

  // ------------------------------------------------------------------ audio input

  attachAudio(audio: AudioInput): void {
    this.detachAudio();
    if (this.closed) return;
    const nc = this.session.noiseCancellation;
    const clean = validatedInput(audio, (e) => this.session._reportError('audio_input', 'audio input', e, true));
    this.recognition = createActor(recognitionActor, {
      parent: this.actor,
      input: {
        audio: this.eot.listen(nc ? nc.process(clean) : clean),
        vad: this.vad,
        stt: this.stt,
        sttNode: sttNodeStream(this.agent, this.stt, this.agent.sttNode === Agent.prototype.sttNode),
        deliver: (e) => {
          if (!this.closed && this.started) routeRecognition(this, e);
        },
      },
    });
    this.recognition.start();
  }

  detachAudio(): void {
    if (this.recognition) this.actor.send({ type: 'STOP_CHILD', ref: this.recognition });
    this.recognition = null;
  }

  /** What the machines need to know of the current speech when the user acts. */
  facts(): CurrentSpeechFacts | null {
    const id = this.actor.getSnapshot().context.current;
    const h = id ? this.handles.get(id) : undefined;
    return h ? { id: h.id, interrupted: h.interrupted, allowInterruptions: h.allowInterruptions } : null;
  }

  floorFree(h: SpeechHandle): Promise<void> {
    return whenFloorFree(this.actor, h);
  }

  // ------------------------------------------------------------------ output control

  /** Read from the output channel actor: the device's pause state, not a flag of ours. */
  get outputPaused(): boolean {
    return this.session._outputChannel()?.getSnapshot().matches({ pause: 'paused' }) ?? false;
  }

  pauseOutput(): void {
    this.session._outputChannel()?.send({ type: 'PAUSE' });
    this.playing?.pacer.pause();
  }

  resumeOutput(): void {
    if (!this.outputPaused) return;
    this.session._outputChannel()?.send({ type: 'RESUME' });
    this.playing?.pacer.resume();
  }

  // ------------------------------------------------------------------ speeches

  newHandle(opts: { allowInterruptions?: boolean; kind: 'say' | 'reply'; userInitiated: boolean; toolChoice?: ToolChoice }): SpeechHandle {
    const allow = opts.allowInterruptions ?? this.agent.allowInterruptions ?? this.options.allowInterruptions;
    const c = opts.toolChoice;
    const toolChoice = c === 'none' || c === 'required' || (typeof c === 'object' && c?.type === 'function') ? c : 'auto';
    const h = new SpeechHandle({
      allowInterruptions: allow,
      parent: this.actor,
      kind: opts.kind,
      userInitiated: opts.userInitiated,
      maxToolSteps: this.session.options.maxToolSteps,
      toolChoice,
      // A reply of onEnter (or of a tool that an onEnter reply called) is not offered `not_in_on_enter` tools.
      inOnEnter: speechScope.getStore()?.hook === 'onEnter',
    });
    h._owner = this;
    this.handles.set(h.id, h);
    const sub = h.actor.subscribe({
      complete: () => {
        sub.unsubscribe();
        this.handles.delete(h.id);
        if (!this.closed) this.actor.send({ type: 'SPEECH_DONE', id: h.id });
      },
    });
    return h;
  }

  scheduleSpeech(h: SpeechHandle, opts: { force?: boolean } = {}): void {
    if (this.closed) throw new Error('the agent activity is closed');
    this.rejected.delete(h.id);
    h.actor.send({ type: 'SCHEDULE' });
    this.actor.send({ type: 'SPEECH_ENQUEUED', id: h.id, priority: h.priority, kind: h.kind, force: opts.force });
    if (this.rejected.delete(h.id)) {
      h.interrupt({ force: true });
      h._finish();
      throw new Error('cannot schedule a new speech: the agent is draining or handing off');
    }
  }

  /** Whether a new speech would be accepted now (not draining or handing off). */
  acceptsSpeech(): boolean {
    return !this.closed && this.actor.getSnapshot().context.acceptingSpeech;
  }

  stepDone(h: SpeechHandle, toolCalls: number): void {
    const authorized = h.isAuthorized();
    h.actor.send({ type: 'STEP_DONE', toolCalls });
    if (authorized && !this.closed) this.actor.send({ type: 'STEP_DONE', id: h.id, toolsPending: toolCalls > 0 });
  }

  toolStepDone(h: SpeechHandle): void {
    if (!this.closed) this.actor.send({ type: 'TOOL_STEP_DONE', id: h.id });
  }

  toolStarted(): void {
    this.toolsRunning++;
    if (!this.closed) this.actor.send({ type: 'TOOLS_CHANGED', running: this.toolsRunning });
  }

  toolFinished(): void {
    this.toolsRunning--;
    if (!this.closed) this.actor.send({ type: 'TOOLS_CHANGED', running: this.toolsRunning });
  }

  /** Background speeches: speeches whose step played but whose tools still run. */
  backgroundSpeeches(except?: SpeechHandle): SpeechHandle[] {
    return [...this.handles.values()].filter((h) => h !== except && h.runningTools());
  }

  say(text: SayInput, opts: { allowInterruptions?: boolean; addToChatCtx?: boolean; audio?: AudioInput; userInitiated?: boolean } = {}): SpeechHandle {
    if (!opts.audio && !this.tts && this.session.output.audio) {
      throw new Error('say() needs a TTS (or pre-synthesized `audio`) when an audio output is attached');
    }
    const userInitiated = opts.userInitiated ?? true;
    const h = this.newHandle({ allowInterruptions: opts.allowInterruptions, kind: 'say', userInitiated });
    this.session._emit({ type: 'speech_created', userInitiated, source: 'say', speechHandle: h });
    this.track(runSay(this, h, text, { addToChatCtx: opts.addToChatCtx ?? true, audio: opts.audio }));
    this.scheduleSpeech(h);
    return h;
  }

  generateReply(opts: GenerateReplyOptions = {}): SpeechHandle {
    if (!this.llm) throw new Error('generateReply() needs an LLM: pass `llm` to AgentSession or the Agent');
    const scope = speechScope.getStore();
    // A reply asked for from inside a tool must not call tools again by default.
    const toolChoice = opts.toolChoice ?? (scope?.inTool ? 'none' : 'auto');
    const userInitiated = opts.userInitiated ?? true;
    const h = this.newHandle({ allowInterruptions: opts.allowInterruptions, kind: 'reply', userInitiated, toolChoice });
    this.session._emit({ type: 'speech_created', userInitiated, source: 'generate_reply', speechHandle: h });
    const userMessage = opts.userMessage ?? (opts.userInput !== undefined ? createMessage('user', opts.userInput) : undefined);
    const replyOpts = { chatCtx: opts.chatCtx ?? this.agent.chatCtx, userMessage, instructions: opts.instructions, toolChoice, prefetchTts: opts.prefetchTts };
    this.track(runReply(this, h, replyOpts));
    if (opts.schedule !== false) this.scheduleSpeech(h);
    return h;
  }

  /** Interrupts every speech that allows it (all with force); resolves when they are done. */
  interrupt(opts: { force?: boolean } = {}): Promise<void> {
    this.preemptive.cancel();
    const current = this.facts();
    if (current && !current.interrupted && !current.allowInterruptions && !opts.force) {
      return Promise.reject(new Error('the current speech does not allow interruptions (use { force: true })'));
    }
    const targets: SpeechHandle[] = [];
    for (const h of this.handles.values()) {
      if (h.done() || (!h.allowInterruptions && !opts.force)) continue;
      h.interrupt({ force: opts.force });
      targets.push(h);
    }
    return Promise.all(targets.map((h) => h.waitForPlayout())).then(() => undefined);
  }

  /** A user turn this activity could not take (it was fenced for a handoff): the next activity answers it. */
  get fencedTurn() {
    return this.turns.fencedTurn;
  }
}
