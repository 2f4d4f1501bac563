import type { Subscription } from 'rxjs';
import type { ChatMessage } from '../llm/chatContext.ts';
import type { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent, AgentState, UserState } from '../session/events.ts';
import type { ActorTracker } from './actorTracker.ts';
import { comparableWords, heardWordCount, MonitoredAudioOutput, type OutputObservation, type TracedTTS } from './playbackTrace.ts';

/**
 * The invariants, by the letter used in issue 8's proof:
 * a `one_speech`: at most one speech audible at a time, a segment never mixes two speeches.
 * b `no_talk_over_user`: no (interruptible) segment becomes audible while the user is speaking.
 * c `tool_outputs`: every function_call in history has exactly one function_call_output with its callId.
 * d `heard_history`: an assistant message holds only words whose audio was played (see `heardWordCount`).
 * e `user_turns_kept`: every final transcript (and expected typed input) ends up in a user message.
 * f `honest_states`: `speaking` only while audio is audible; never left `thinking` once everything settled.
 * g `released_on_close`: after close() no timer, actor, output listener or provider stream of the session is left.
 */
export type InvariantName =
  | 'one_speech'
  | 'no_talk_over_user'
  | 'tool_outputs'
  | 'heard_history'
  | 'user_turns_kept'
  | 'honest_states'
  | 'released_on_close';

export interface Violation {
  invariant: InvariantName;
  message: string;
  /** ms since the monitor started watching. */
  at: number;
  /** The last events before the violation, oldest first. */
  trail: string[];
}

export interface InvariantMonitorOptions {
  /** The traced TTS the session synthesizes with: needed for `one_speech` by speech and for `heard_history`. */
  tts?: TracedTTS;
  /** Wrap `session.output.audio` in a {@link MonitoredAudioOutput} (default true when an output is set). */
  audio?: boolean;
  /** Actors started by the session (pass `tracker.inspect` as the session's `inspect` option). */
  actors?: ActorTracker;
  /** Pending timers now, e.g. `() => vi.getTimerCount()`; compared with the count when watching began. */
  timerCount?: () => number;
  /** Other things that must be released on close, e.g. `{ name: 'llm streams', live: () => llm.live }`. */
  resources?: Array<{ name: string; live: () => number }>;
  /** How long `speaking` may lag behind the audio (ms, default 5): the session reacts in the same moment. */
  stateLagMs?: number;
  /** A final transcript older than this must be in history at a check (ms; default maxEndpointingDelay + 1000). */
  turnCommitMs?: number;
  /** Events kept in a violation's trail (default 30). */
  trailLength?: number;
}

export interface InvariantMonitor {
  readonly violations: Violation[];
  /** The output wrapper the monitor installed, if any. */
  readonly output: MonitoredAudioOutput | null;
  /** Re-checks the state-based invariants now; `settled`: nothing should be in flight (after a quiet period). */
  check(opts?: { settled?: boolean }): Violation[];
  /** After `session.close()` resolved: everything `check({ settled: true })` checks, and that all was released. */
  checkClosed(): Violation[];
  /**
   * A user input that must end up in a user message: typed (`generateReply({ userInput })`), or anything a test
   * knows the user said (`kind` names it in the violation).
   */
  expectUserMessage(text: string, kind?: string): void;
  /** Adds a line to the trail (e.g. what a test script just did). */
  note(text: string): void;
  /** Records a violation found by the caller (e.g. `close()` did not resolve in time). */
  record(invariant: InvariantName, message: string): void;
  /** Throws an error listing the violations, if any. */
  assertClean(): void;
  stop(): void;
}

/** Watches a session's events and output and records every broken invariant. Start it before `session.start()`. */
export function watchInvariants(session: AgentSession<any>, opts: InvariantMonitorOptions = {}): InvariantMonitor {
  const origin = Date.now();
  const now = () => Date.now() - origin;
  const violations: Violation[] = [];
  const trail: string[] = [];
  const trailLength = opts.trailLength ?? 30;
  const stateLag = opts.stateLagMs ?? 5;
  const commitMs = opts.turnCommitMs ?? (session.options?.maxEndpointingDelay ?? 3000) + 1000;
  const timerBaseline = opts.timerCount?.() ?? 0;
  const seen = new Set<string>();
  let agentState: AgentState = session.agentState;
  let userState: UserState = session.userState;
  let silentSpeakingSince: number | null = null;
  const expectedUserText: Array<{ text: string; at: number; kind: string }> = [];

  const note = (line: string) => {
    trail.push(`${now()}ms ${line}`);
    if (trail.length > trailLength) trail.shift();
  };
  /** Records a violation once per `key` (one episode of one fault is one violation). */
  const violate = (invariant: InvariantName, message: string, key = message) => {
    if (seen.has(`${invariant}:${key}`)) return;
    seen.add(`${invariant}:${key}`);
    violations.push({ invariant, message, at: now(), trail: [...trail] });
  };

  let output: MonitoredAudioOutput | null = null;
  if (opts.audio !== false && session.output.audio) {
    output = session.output.audio instanceof MonitoredAudioOutput ? session.output.audio : new MonitoredAudioOutput(session.output.audio, opts.tts);
    session.output.audio = output;
    output.observe = (o, before) => onOutput(o, before);
  }

  // ------------------------------------------------------------ f: speaking means audible
  const checkSpeaking = () => {
    if (!output) return;
    if (agentState !== 'speaking' || output.audible) {
      silentSpeakingSince = null;
      return;
    }
    silentSpeakingSince ??= now();
    const silentFor = now() - silentSpeakingSince;
    if (silentFor > stateLag) {
      const why = output.segment ? 'the output is paused' : 'no segment is playing';
      violate('honest_states', `agent state is 'speaking' while nothing is audible (${why}) for ${silentFor} ms`, `silent@${silentSpeakingSince}`);
    }
  };

  // ------------------------------------------------------------ a, b: what reaches the output
  /** The session's current speech when the open segment began (tells speeches apart without a traced TTS). */
  let segmentSpeech: string | undefined;
  const onOutput = (o: OutputObservation, before: boolean) => {
    if (before) checkSpeaking();
    if (before && o.kind === 'frame') {
      const seg = output!.segment;
      const owner = o.owner;
      if (seg && owner) {
        const current = seg.owners[seg.owners.length - 1]!.s;
        if (current && current !== owner) {
          const state = seg.flushed ? 'flushed but still playing' : seg.cleared ? 'cleared but not finished' : 'still open';
          violate('one_speech', `audio of synthesis #${owner.id} ("${short(owner.text)}") pushed while the segment of #${current.id} ("${short(current.text)}") is ${state}`, `mix:${current.id}:${owner.id}`);
        }
      }
      // Without a traced TTS the speech a frame belongs to is the session's current speech.
      const speechId = session.currentSpeech?.id;
      if (seg && !owner && segmentSpeech && speechId && speechId !== segmentSpeech) {
        violate('one_speech', `audio of speech ${speechId} pushed while the segment of speech ${segmentSpeech} is ${seg.flushed ? 'flushed but still playing' : 'still open'}`, `mix:${segmentSpeech}:${speechId}`);
      }
      if (o.newSegment) {
        segmentSpeech = speechId;
        note(`output: segment starts${owner ? ` (synthesis #${owner.id} "${short(owner.text)}")` : speechId ? ` (${speechId})` : ''}${output!.paused ? ' while paused' : ''}`);
      }
      return;
    }
    if (before) {
      if (o.kind === 'finished') note(`output: playback_finished ${Math.round(o.playedMs)} ms${o.interrupted ? ' interrupted' : ''}`);
      else if (o.kind === 'clear' || o.kind === 'pause' || o.kind === 'resume') note(`output: ${o.kind}`);
      return;
    }
    if (o.kind === 'audible') {
      const speech = session.currentSpeech;
      if (userState === 'speaking' && speech?.allowInterruptions !== false) {
        violate('no_talk_over_user', `a segment became audible while the user is speaking${speech ? ` (speech ${speech.id})` : ''}`, `talk@${now()}`);
      }
    }
    if (o.kind === 'finished') segmentSpeech = undefined;
    checkSpeaking();
  };

  // ------------------------------------------------------------ d: assistant messages hold heard words only
  const checkAssistantMessage = (msg: ChatMessage) => {
    const tts = opts.tts;
    const words = comparableWords(msg.content.join(' '));
    if (!tts || !output || words.length === 0) return;
    const candidates = tts.syntheses.filter((s) => !s.claimed && startsWith(comparableWords(s.text), words)).reverse();
    const s = candidates[0];
    if (!s) {
      violate('heard_history', `assistant message "${short(msg.content.join(' '))}" matches no text sent to the TTS`);
      return;
    }
    s.claimed = true;
    const open = output.segment?.owners.some((o) => o.s === s) ? output.position() : 0;
    const heard = heardWordCount(s, s.playedMs + open, tts.msPerChar);
    if (words.length > heard) {
      violate(
        'heard_history',
        `assistant message keeps ${words.length} words but only ${heard} were heard ("${short(msg.content.join(' '))}"; synthesis #${s.id} ${s.state}, ` +
          `${Math.round(s.producedMs)} ms produced, ${Math.round(s.playedMs)} ms played)`,
      );
    }
  };

  const onEvent = (ev: AgentSessionEvent) => {
    checkSpeaking();
    switch (ev.type) {
      case 'agent_state_changed':
        note(`agent ${ev.oldState} -> ${ev.newState}`);
        agentState = ev.newState;
        break;
      case 'user_state_changed':
        note(`user ${ev.oldState} -> ${ev.newState}`);
        userState = ev.newState;
        break;
      case 'user_input_transcribed':
        if (ev.isFinal) {
          note(`final transcript "${short(ev.transcript)}"`);
          if (ev.transcript.trim()) expectedUserText.push({ text: ev.transcript, at: now(), kind: 'final transcript' });
        }
        break;
      case 'conversation_item_added':
        if (ev.item.type === 'message') {
          note(`history += ${ev.item.role}${ev.item.interrupted ? ' (interrupted)' : ''} "${short(ev.item.content.join(' '))}"`);
          if (ev.item.role === 'assistant') checkAssistantMessage(ev.item);
        } else note(`history += handoff to ${ev.item.newAgentId}`);
        break;
      case 'speech_created':
        note(`speech_created ${ev.source} ${ev.speechHandle.id}`);
        break;
      case 'function_tools_executed':
        note(`tools executed: ${ev.functionCalls.map((c) => c.name).join(', ')}`);
        break;
      case 'error':
        note(`error (${ev.source}${ev.recoverable ? ', recoverable' : ''}): ${short(ev.error.message)}`);
        break;
      case 'agent_false_interruption':
        note(`false interruption${ev.resumed ? ', resumed' : ''}`);
        break;
      case 'close':
        note(`close (${ev.reason})`);
        break;
    }
    checkSpeaking();
  };
  const sub: Subscription = session.events$.subscribe(onEvent);

  // ------------------------------------------------------------ c, e, f: checks at quiet points
  const checkToolOutputs = (settled: boolean) => {
    const calls = new Map<string, number>();
    const outputs = new Map<string, number>();
    for (const item of session.history.items) {
      if (item.type === 'function_call') calls.set(item.callId, (calls.get(item.callId) ?? 0) + 1);
      if (item.type === 'function_call_output') {
        outputs.set(item.callId, (outputs.get(item.callId) ?? 0) + 1);
        if (!calls.has(item.callId)) violate('tool_outputs', `function_call_output ${item.callId} (${item.name}) has no function_call before it`);
      }
    }
    for (const [id, n] of calls) {
      const m = outputs.get(id) ?? 0;
      if (m > n) violate('tool_outputs', `function call ${id} has ${m} outputs for ${n} calls`);
      if (settled && m < n) violate('tool_outputs', `function call ${id} has no function_call_output`);
    }
  };

  const checkUserTurns = () => {
    const messages = session.history.items.filter((i): i is ChatMessage => i.type === 'message' && i.role === 'user').map((m) => comparableWords(m.content.join(' ')));
    let cursor = { msg: 0, word: 0 };
    for (const e of expectedUserText) {
      if (now() - e.at < commitMs) continue;
      const words = comparableWords(e.text);
      const found = findRun(messages, words, cursor) ?? findRun(messages, words, { msg: 0, word: 0 });
      if (found) cursor = found;
      else violate('user_turns_kept', `${e.kind} "${short(e.text)}" (at ${e.at} ms) never reached a user message in history`, `lost:${e.at}:${e.text}`);
    }
  };

  const check = (o: { settled?: boolean } = {}) => {
    const before = violations.length;
    checkSpeaking();
    checkToolOutputs(!!o.settled);
    if (o.settled) {
      checkUserTurns();
      if (agentState === 'thinking') violate('honest_states', `agent stuck in 'thinking' after everything settled`, `thinking@${now()}`);
    }
    return violations.slice(before);
  };

  const checkClosed = () => {
    const before = violations.length;
    check({ settled: true });
    if (session.lifecycle !== 'closed') violate('released_on_close', `session lifecycle is '${session.lifecycle}' after close()`);
    if (opts.timerCount) {
      const left = opts.timerCount() - timerBaseline;
      if (left > 0) violate('released_on_close', `${left} timer(s) still pending after close()`);
    }
    const live = opts.actors?.live() ?? [];
    if (live.length) violate('released_on_close', `${live.length} actor(s) still active after close(): ${live.slice(0, 5).join(', ')}`);
    if (output?.listened) violate('released_on_close', 'the session still listens to the audio output after close()');
    if (output?.segment) violate('released_on_close', 'audio is still playing after close()');
    for (const r of opts.resources ?? []) {
      const n = r.live();
      if (n > 0) violate('released_on_close', `${n} ${r.name} still open after close()`);
    }
    return violations.slice(before);
  };

  return {
    violations,
    output,
    check,
    checkClosed,
    expectUserMessage: (text, kind = 'typed input') => {
      note(`${kind} "${short(text)}"`);
      expectedUserText.push({ text, at: now(), kind });
    },
    note,
    record: (invariant, message) => violate(invariant, message),
    assertClean() {
      if (!violations.length) return;
      throw new Error(`${violations.length} invariant violation(s):\n${violations.map(formatViolation).join('\n\n')}`);
    },
    stop() {
      sub.unsubscribe();
      output?.detach();
    },
  };
}

export function formatViolation(v: Violation): string {
  return `[${v.invariant}] at ${v.at} ms: ${v.message}\n  trail:\n${v.trail.map((l) => `    ${l}`).join('\n')}`;
}

const short = (t: string, n = 48) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

const startsWith = (whole: string[], prefix: string[]) => prefix.length <= whole.length && prefix.every((w, i) => whole[i] === w);

/** The first position at or after `from` where `words` occur contiguously in one message; returns the position after. */
function findRun(messages: string[][], words: string[], from: { msg: number; word: number }): { msg: number; word: number } | null {
  for (let m = from.msg; m < messages.length; m++) {
    const msg = messages[m]!;
    for (let i = m === from.msg ? from.word : 0; i + words.length <= msg.length; i++) {
      if (words.every((w, k) => msg[i + k] === w)) return { msg: m, word: i + words.length };
    }
  }
  return null;
}
