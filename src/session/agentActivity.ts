import { createActor, type Actor } from 'xstate';
import { activityMachine, type CurrentSpeechFacts } from '../../machines/activity.ts';
import { userTurnMachine, type EndOfTurnInfo } from '../../machines/userTurn.ts';
import { recognitionActor, type RecognitionEvent } from '../../actors/recognition.ts';
import type { Agent } from '../agent.ts';
import type { AudioInput } from '../io/types.ts';
import { createMessage, type ChatContext, type ChatMessage } from '../llm/chatContext.ts';
import { StopResponse, type FunctionTool, type ToolChoice } from '../llm/tools.ts';
import type { LLM, STT, TTS, VAD } from '../providers/types.ts';
import type { AgentSession } from './agentSession.ts';
import { runReply, runSay, type SayInput } from './reply.ts';
import { SpeechHandle } from './speechHandle.ts';
import { speechScope } from './speechContext.ts';
import type { TranscriptPacer } from './transcriptPacer.ts';
import { countWords, transcriptsEquivalent } from './words.ts';
import { toStreamingSTT } from './providers.ts';

interface Preemptive {
  handle: SpeechHandle;
  transcript: string;
  userMessage: ChatMessage;
  ctxItems: readonly unknown[];
  tools: readonly FunctionTool[];
}

export interface GenerateReplyOptions {
  userInput?: string;
  userMessage?: ChatMessage;
  instructions?: string;
  toolChoice?: ToolChoice;
  allowInterruptions?: boolean;
  chatCtx?: ChatContext;
  /** false: generate now, schedule later (preemptive generation). */
  schedule?: boolean;
}

/**
 * Runs one Agent inside a session: owns the activity and user-turn statecharts, recognition, the speeches and
 * their tasks. The statecharts decide (who may speak, whether audio interrupts, when a turn ends); this class
 * carries the decisions out.
 */
export class AgentActivity {
  readonly actor: Actor<typeof activityMachine>;
  readonly userTurn: Actor<typeof userTurnMachine>;
  readonly llm: LLM | null;
  readonly tts: TTS | null;
  readonly stt: STT | null;
  readonly vad: VAD | null;
  readonly tools: FunctionTool[];
  readonly handles = new Map<string, SpeechHandle>();
  toolsRunning = 0;
  /** The segment playing now, for pausing its transcript with its audio. */
  playing: { pacer: TranscriptPacer; handle: SpeechHandle } | null = null;
  /** When a VAD event changes the user state, the moment speech really started/ended (events are back-dated). */
  userStateAt: number | null = null;
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly rejected = new Set<string>();
  private recognition: Actor<typeof recognitionActor> | null = null;
  private preemptive: Preemptive | null = null;
  private preemptiveAttempts = 0;
  private userTurnChain: Promise<void> = Promise.resolve();
  private turnSeq = 0;
  private vadSpeaking = false;
  private silenceWaiters: Array<() => void> = [];
  private drainPromise: Promise<void> | null = null;
  /** A user turn that ended while this activity was fenced (handoff/drain): handed to the next activity. */
  fencedTurn: EndOfTurnInfo | null = null;
  private started = false;
  private closed = false;

  constructor(
    readonly agent: Agent,
    readonly session: AgentSession<any>,
  ) {
    const o = session.options;
    const pick = <T>(agentValue: T | null | undefined, sessionValue: T | null): T | null =>
      agentValue === undefined ? sessionValue : agentValue;
    this.llm = pick(agent.llm, session.llm);
    this.tts = pick(agent.tts, session.tts);
    this.vad = pick(agent.vad, session.vad);
    const stt = pick(agent.stt, session.stt);
    this.stt = stt ? toStreamingSTT(stt, this.vad) : null;
    this.tools = [...session.tools, ...agent.tools];
    const names = new Set<string>();
    for (const t of this.tools) {
      if (names.has(t.name)) throw new Error(`duplicate tool name ${JSON.stringify(t.name)} for agent ${agent.id}`);
      names.add(t.name);
    }
    const inspect = session._inspect;
    this.userTurn = createActor(userTurnMachine, {
      input: {
        mode: o.turnDetection,
        hasStt: this.stt !== null,
        minDelay: o.minEndpointingDelay,
        maxDelay: o.maxEndpointingDelay,
        detector: o.turnDetector,
      },
      inspect,
    });
    const out = session.output.audio;
    this.actor = createActor(
      activityMachine.provide({
        actions: {
          authorizeSpeech: (_, { id }) => this.handles.get(id)?.actor.send({ type: 'AUTHORIZE' }),
          rejectSpeech: (_, { id }) => void this.rejected.add(id),
          pauseOutput: () => this.pauseOutput(),
          resumeOutput: () => this.resumeOutput(),
          interruptSpeech: (_, { id }) => {
            const h = this.handles.get(id);
            if (h && !h.interrupted && h.allowInterruptions) h.interrupt();
          },
          reportResumed: ({ context }) => {
            if ((context.paused?.timeout ?? 0) > 0) this.session._emit({ type: 'agent_false_interruption', resumed: true });
          },
          reportNotResumed: ({ context }) => {
            if ((context.paused?.timeout ?? 0) > 0) this.session._emit({ type: 'agent_false_interruption', resumed: false });
          },
        },
      }),
      {
        input: {
          minConsecutiveSpeechDelay: agent.minConsecutiveSpeechDelay ?? o.minConsecutiveSpeechDelay,
          interruption: {
            mode: o.turnDetection,
            minDuration: o.minInterruptionDuration,
            minWords: o.minInterruptionWords,
            hasStt: this.stt !== null,
          },
          pauseEnabled: this.pauseEnabled(),
          falseInterruptionTimeout: o.falseInterruptionTimeout ?? 0,
        },
        inspect,
      },
    );
    void out;
    this.userTurn.on('endOfTurn', ({ info }) => this.onEndOfTurn(info));
  }

  /** Pausing needs the option and an output that can pause. */
  pauseEnabled(): boolean {
    const o = this.session.options;
    return o.resumeFalseInterruption && o.falseInterruptionTimeout !== null && !!this.session.output.audio?.canPause;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    this.agent._session = this.session;
    // The agent's context always starts with its current instructions (replaced when an agent is reused).
    const items = this.agent.chatCtx.items;
    const old = items.findIndex((i) => i.id === 'instructions');
    if (old !== -1) items.splice(old, 1);
    items.unshift(createMessage('system', this.agent.instructions, { id: 'instructions', createdAt: 0 }));
    this.actor.subscribe((s) => this.session._onActivitySnapshot(this, s.value.agent as string));
    this.userTurn.subscribe((s) => this.session._onUserTurnSnapshot(this, s.value.user as string));
    this.actor.start();
    this.userTurn.start();
    this.actor.send({ type: 'STARTED' });
    this.started = true;
    if (this.session.input.audio) this.attachAudio(this.session.input.audio);
    this.runHook('onEnter', () => this.agent.onEnter());
  }

  /** Runs on_exit, stops taking new speech, and waits for every speech and tool to finish. */
  drain(): Promise<void> {
    this.drainPromise ??= (async () => {
      this.actor.send({ type: 'BLOCK_TURNS' });
      await this.runHook('onExit', () => this.agent.onExit());
      this.cancelPreemptive();
      this.actor.send({ type: 'PAUSE_SCHEDULING' });
      await this.settleTasks();
    })();
    return this.drainPromise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detachAudio();
    this.cancelPreemptive();
    for (const h of this.handles.values()) h.interrupt({ force: true });
    await this.settleTasks();
    for (const h of this.handles.values()) h._finish();
    for (const w of this.silenceWaiters.splice(0)) w();
    if (this.outputPaused) this.resumeOutput();
    this.actor.stop();
    this.userTurn.stop();
    if (this.agent._session === this.session) this.agent._session = null;
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

  private runHook(name: string, fn: () => void | Promise<void>): Promise<unknown> {
    return this.track(
      speechScope.run({ activity: this, handle: null, inTool: false }, async () => {
        try {
          await fn();
        } catch (e) {
          this.session._reportError('session', `${this.agent.id}.${name}`, e, true);
        }
      }),
    );
  }

  // ------------------------------------------------------------------ audio input

  attachAudio(audio: AudioInput): void {
    this.detachAudio();
    if (this.closed) return;
    const nc = this.session.noiseCancellation;
    this.recognition = createActor(recognitionActor, {
      input: { audio: nc ? nc.process(audio) : audio, vad: this.vad, stt: this.stt, deliver: (e) => this.onRecognition(e) },
      // A root actor (children cannot be stopped directly), reporting to the session's inspector.
      inspect: this.session._inspect,
    });
    this.recognition.start();
  }

  detachAudio(): void {
    this.recognition?.stop();
    this.recognition = null;
  }

  private facts(): CurrentSpeechFacts | null {
    const id = this.actor.getSnapshot().context.current;
    const h = id ? this.handles.get(id) : undefined;
    return h ? { id: h.id, interrupted: h.interrupted, allowInterruptions: h.allowInterruptions } : null;
  }

  private pendingWords(): number {
    const c = this.userTurn.getSnapshot().context;
    return countWords(`${c.transcript} ${c.interim}`);
  }

  private onRecognition(r: RecognitionEvent): void {
    if (this.closed || !this.started) return;
    const now = Date.now();
    if (r.type === 'error') {
      const label = r.source === 'stt' ? (this.stt?.label ?? 'stt') : r.source === 'vad' ? (this.vad?.label ?? 'vad') : 'audio input';
      this.session._reportError(r.source, label, r.error, r.recoverable);
      return;
    }
    if (r.type === 'stt_usage') {
      const { type: _, ...usage } = r;
      this.session._emit({ type: 'metrics_collected', metrics: { type: 'stt_metrics', label: this.stt?.label ?? 'stt', timestamp: now, ...usage } });
      return;
    }
    if (r.type === 'vad') {
      const ev = r.event;
      if (ev.type === 'start_of_speech') {
        this.vadSpeaking = true;
        const at = now - ev.speechDuration - ev.inferenceDuration;
        this.userStateAt = at;
        this.userTurn.send({ type: 'VAD_SPEECH_START', at });
        this.userStateAt = null;
        this.actor.send({ type: 'USER_SPEECH_START', current: this.facts() });
      } else if (ev.type === 'inference_done') {
        if (ev.speaking) {
          this.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: ev.speechDuration, words: this.pendingWords(), current: this.facts() });
        }
      } else {
        this.vadSpeaking = false;
        for (const w of this.silenceWaiters.splice(0)) w();
        const at = now - ev.silenceDuration - ev.inferenceDuration;
        this.userStateAt = at;
        this.userTurn.send({ type: 'VAD_SPEECH_END', at });
        this.userStateAt = null;
        this.actor.send({ type: 'USER_SPEECH_END' });
      }
      return;
    }
    const ev = r.event;
    const alt = ev.alternatives?.[0];
    const text = alt?.text ?? '';
    switch (ev.type) {
      case 'interim_transcript':
      case 'preflight_transcript':
        this.session._emit({ type: 'user_input_transcribed', transcript: text, isFinal: false, language: alt?.language, speakerId: alt?.speakerId });
        this.userTurn.send({ type: 'INTERIM_TRANSCRIPT', text });
        if (!this.vad && text.trim()) {
          this.actor.send({ type: 'AUDIO_ACTIVITY', speechDuration: Number.POSITIVE_INFINITY, words: this.pendingWords(), current: this.facts() });
        }
        break;
      case 'final_transcript': {
        if (!text.trim()) break;
        this.session._sttRecovered();
        this.session._emit({ type: 'user_input_transcribed', transcript: text, isFinal: true, language: alt?.language, speakerId: alt?.speakerId });
        this.userTurn.send({ type: 'FINAL_TRANSCRIPT', text, confidence: alt?.confidence, at: now });
        this.actor.send({ type: 'FINAL_TRANSCRIPT', words: this.pendingWords(), current: this.facts(), userSpeaking: this.vadSpeaking });
        this.session._finalTranscript();
        this.maybeStartPreemptive();
        break;
      }
      case 'start_of_speech':
        if (this.session.options.turnDetection === 'stt') {
          this.userTurn.send({ type: 'STT_SPEECH_START', at: now });
          if (!this.vad) this.actor.send({ type: 'USER_SPEECH_START', current: this.facts() });
        }
        break;
      case 'end_of_speech':
        if (this.session.options.turnDetection === 'stt') {
          this.userTurn.send({ type: 'STT_SPEECH_END', at: now });
          if (!this.vad) this.actor.send({ type: 'USER_SPEECH_END' });
        }
        break;
    }
  }

  /** An interruptible reply waits for the user to stop speaking before it plays. */
  whenUserSilent(h: SpeechHandle): Promise<void> {
    if (!this.vadSpeaking) return Promise.resolve();
    return Promise.race([new Promise<void>((r) => this.silenceWaiters.push(r)), h.whenInterrupted()]);
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

  newHandle(allowInterruptions: boolean | undefined): SpeechHandle {
    const allow = allowInterruptions ?? this.agent.allowInterruptions ?? this.session.options.allowInterruptions;
    const h = new SpeechHandle({ allowInterruptions: allow, parent: this.actor });
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
    this.actor.send({ type: 'SPEECH_ENQUEUED', id: h.id, priority: h.priority, force: opts.force });
    if (this.rejected.delete(h.id)) {
      h.interrupt({ force: true });
      h._finish();
      throw new Error('cannot schedule a new speech: the agent is draining or handing off');
    }
  }

  stepDone(h: SpeechHandle): void {
    h.actor.send({ type: 'STEP_DONE' });
    if (!this.closed) this.actor.send({ type: 'STEP_DONE', id: h.id });
  }

  /** Background speeches: speeches whose step played but whose tools still run. */
  backgroundSpeeches(except?: SpeechHandle): SpeechHandle[] {
    return [...this.handles.values()].filter((h) => h !== except && h.actor.getSnapshot().matches('stepDone'));
  }

  isIdle(): boolean {
    const c = this.actor.getSnapshot().context;
    return c.current === null && c.queue.length === 0;
  }

  say(text: SayInput, opts: { allowInterruptions?: boolean; addToChatCtx?: boolean; audio?: AudioInput } = {}): SpeechHandle {
    if (!opts.audio && !this.tts && this.session.output.audio) {
      throw new Error('say() needs a TTS (or pre-synthesized `audio`) when an audio output is attached');
    }
    const h = this.newHandle(opts.allowInterruptions);
    this.session._emit({ type: 'speech_created', userInitiated: true, source: 'say', speechHandle: h });
    this.track(runSay(this, h, text, { addToChatCtx: opts.addToChatCtx ?? true, audio: opts.audio }));
    this.scheduleSpeech(h);
    return h;
  }

  generateReply(opts: GenerateReplyOptions = {}): SpeechHandle {
    if (!this.llm) throw new Error('generateReply() needs an LLM: pass `llm` to AgentSession or the Agent');
    const scope = speechScope.getStore();
    const h = this.newHandle(opts.allowInterruptions);
    this.session._emit({ type: 'speech_created', userInitiated: true, source: 'generate_reply', speechHandle: h });
    const userMessage = opts.userMessage ?? (opts.userInput !== undefined ? createMessage('user', opts.userInput) : undefined);
    this.track(
      runReply(this, h, {
        chatCtx: opts.chatCtx ?? this.agent.chatCtx,
        userMessage,
        instructions: opts.instructions,
        // A reply asked for from inside a tool must not call tools again by default.
        toolChoice: opts.toolChoice ?? (scope?.inTool ? 'none' : 'auto'),
      }),
    );
    if (opts.schedule !== false) this.scheduleSpeech(h);
    return h;
  }

  /** Interrupts every speech that allows it (all with force); resolves when they are done. */
  interrupt(opts: { force?: boolean } = {}): Promise<void> {
    this.cancelPreemptive();
    const current = this.facts();
    if (current && !current.interrupted && !current.allowInterruptions && !opts.force) {
      throw new Error('the current speech does not allow interruptions (use { force: true })');
    }
    const targets: SpeechHandle[] = [];
    for (const h of this.handles.values()) {
      if (h.done() || (!h.allowInterruptions && !opts.force)) continue;
      h.interrupt({ force: opts.force });
      targets.push(h);
    }
    return Promise.all(targets.map((h) => h.waitForPlayout())).then(() => undefined);
  }

  // ------------------------------------------------------------------ user turns

  private onEndOfTurn(info: EndOfTurnInfo): void {
    if (this.closed) return;
    const snap = this.actor.getSnapshot();
    if (!snap.context.acceptingTurns) {
      // Handoff or drain in progress: the old agent must not answer. The next agent will (see `takeOverTurn`).
      this.userTurn.send({ type: 'TURN_ACCEPTED' });
      this.fencedTurn = this.fencedTurn
        ? { ...info, transcript: `${this.fencedTurn.transcript} ${info.transcript}`, speechStartedAt: this.fencedTurn.speechStartedAt }
        : info;
      return;
    }
    const ev = { type: 'END_OF_TURN' as const, words: countWords(info.transcript), current: this.facts() };
    if (!snap.can(ev)) {
      // Too few words to interrupt the agent: keep accumulating the transcript.
      this.cancelPreemptive();
      return;
    }
    this.actor.send(ev);
    this.userTurn.send({ type: 'TURN_ACCEPTED' });
    const seq = ++this.turnSeq;
    this.userTurnChain = this.userTurnChain.then(() => this.track(this.userTurnCompleted(info, seq)));
  }

  /** Answers a user turn that the previous activity could not take because it was handing over. */
  takeOverTurn(info: EndOfTurnInfo): void {
    const seq = ++this.turnSeq;
    this.userTurnChain = this.userTurnChain.then(() => this.track(this.userTurnCompleted(info, seq)));
  }

  private async userTurnCompleted(info: EndOfTurnInfo, seq: number): Promise<void> {
    this.preemptiveAttempts = 0;
    const background = this.backgroundSpeeches().filter((h) => h.allowInterruptions);
    for (const h of background) h.interrupt();
    await Promise.all(background.map((h) => h.waitForPlayout()));

    const metrics: Record<string, number> = {};
    if (info.speechStartedAt !== null && info.lastSpeakingAt !== null && info.lastSpeakingAt >= info.speechStartedAt) {
      metrics.startedSpeakingAt = info.speechStartedAt;
      metrics.stoppedSpeakingAt = info.lastSpeakingAt;
      metrics.transcriptionDelay = info.lastFinalAt !== null ? Math.max(info.lastFinalAt - info.lastSpeakingAt, 0) : 0;
      metrics.endOfTurnDelay = Math.max(info.committedAt - info.lastSpeakingAt, 0);
    }
    // Built after background speeches settled, so it sorts after their tool outputs.
    const message = createMessage('user', info.transcript, { transcriptConfidence: info.confidence, metrics });
    this.session._onUserTurnMessage?.(message);

    const current = this.facts();
    const currentHandle = current ? this.handles.get(current.id) : undefined;
    if (currentHandle && !currentHandle.done()) {
      if (!currentHandle.allowInterruptions) {
        this.cancelPreemptive();
        return; // an uninterruptible speech is playing: this turn gets no reply
      }
      currentHandle.interrupt();
      await currentHandle.waitForPlayout();
    }

    const turnCtx = this.agent.chatCtx.copy();
    const t0 = Date.now();
    try {
      await speechScope.run({ activity: this, handle: null, inTool: false }, () =>
        this.agent.onUserTurnCompleted(turnCtx, message),
      );
    } catch (e) {
      this.cancelPreemptive();
      if (!(e instanceof StopResponse)) this.session._reportError('session', `${this.agent.id}.onUserTurnCompleted`, e, true);
      this.session._addUserMessageWithoutReply(this, message);
      return;
    }
    const hookDelay = Date.now() - t0;

    let handle: SpeechHandle | null = null;
    const p = this.preemptive;
    if (p && !p.handle.done() && !p.handle.interrupted) {
      const sameCtx = p.ctxItems.length === turnCtx.items.length && p.ctxItems.every((it, i) => it === turnCtx.items[i]);
      const sameTools = p.tools.length === this.tools.length && p.tools.every((t, i) => t === this.tools[i]);
      if (transcriptsEquivalent(p.transcript, info.transcript) && sameCtx && sameTools) {
        Object.assign(p.userMessage, { content: message.content, transcriptConfidence: message.transcriptConfidence, metrics, createdAt: message.createdAt });
        handle = p.handle;
        this.preemptive = null;
        this.scheduleSpeech(handle);
      }
    }
    if (!handle) {
      this.cancelPreemptive();
      handle = this.generateReply({ userMessage: message, chatCtx: turnCtx });
    }
    if (seq !== this.turnSeq) handle.interrupt({ force: true }); // a newer turn already began

    this.session._emit({
      type: 'metrics_collected',
      metrics: {
        type: 'eou_metrics',
        timestamp: Date.now(),
        endOfUtteranceDelayMs: metrics.endOfTurnDelay ?? 0,
        transcriptionDelayMs: metrics.transcriptionDelay ?? 0,
        onUserTurnCompletedDelayMs: hookDelay,
        speechId: handle.id,
      },
    });
  }

  // ------------------------------------------------------------------ preemptive generation

  private maybeStartPreemptive(): void {
    if (!this.session.options.preemptiveGeneration || !this.llm) return;
    const snap = this.actor.getSnapshot();
    if (!snap.context.acceptingTurns) return;
    const current = this.facts();
    if (current && !current.interrupted) return;
    if (this.preemptiveAttempts >= 3) return;
    const transcript = this.userTurn.getSnapshot().context.transcript;
    if (this.preemptive && this.preemptive.transcript === transcript) return;
    this.cancelPreemptive();
    this.preemptiveAttempts++;
    const userMessage = createMessage('user', transcript);
    const ctx = this.agent.chatCtx.copy();
    const handle = this.generateReply({ userMessage, chatCtx: ctx, schedule: false });
    this.preemptive = { handle, transcript, userMessage, ctxItems: [...ctx.items], tools: [...this.tools] };
  }

  cancelPreemptive(): void {
    const p = this.preemptive;
    this.preemptive = null;
    if (p && !p.handle.scheduled) {
      p.handle.interrupt({ force: true });
      p.handle._finish();
    }
  }

  // ------------------------------------------------------------------ helpers for the reply tasks

  get closedOrClosing(): boolean {
    return this.closed;
  }
}
