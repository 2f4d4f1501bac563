/** Plays one FuzzScript against a real AgentSession on the testing kit's fakes, in virtual time, under the monitor. */
import { NEVER } from 'rxjs';
import { vi } from 'vitest';
import { Agent, AgentSession } from '../../src/index.ts';
import {
  BROKEN_JSON_ARGUMENTS,
  FakeAudioOutput,
  FakeLLM,
  FakeSTT,
  FakeTTS,
  FakeVAD,
  FaultyLLM,
  FaultySTT,
  FaultyTTS,
  scriptedTool,
  StallingAudioOutput,
  TracedTTS,
  trackActors,
  UserSpeechScript,
  watchInvariants,
  type FakeLLMResponse,
  type ToolBehaviour,
  type Violation,
} from '../../src/testing/index.ts';
import { isTurn, type FuzzScript, type ReplySpec, type ToolSpec } from './fuzzScript.ts';

export const FUZZ_T0 = 1_000_000;
/** Quiet time after the last step before the settled check: longer than any reply, tool chain or endpointing. */
const SETTLE_MS = 25_000;
/** How long close() may take in virtual time. */
const CLOSE_BOUND_MS = 10_000;
const MS_PER_CHAR = 60;
const VOCAB = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];

export interface FuzzOutcome {
  violations: Violation[];
  turns: number;
  actions: number;
  /** What the agent was doing when each user utterance or noise began (barge-in coverage). */
  phases: Record<string, number>;
  /** API calls of the script that threw synchronously (the session should answer with events instead). */
  apiThrows: string[];
}

const words = (tag: string, n: number) => [tag, ...Array.from({ length: Math.max(0, n - 1) }, (_, i) => VOCAB[(i * 7 + tag.length) % VOCAB.length]!)].join(' ');

/** Builds the LLM script and tool behaviours for a FuzzScript; every text and tool output is unique. */
function scriptModels(script: FuzzScript) {
  const responses: FakeLLMResponse[] = [];
  const toolSpecs = new Map<number, ToolSpec>();
  let uid = 0;
  const addReply = (input: string, r: ReplySpec, tag: string) => {
    const calls = r.tools.map((t) => {
      const n = ++uid;
      toolSpecs.set(n, t);
      const name = t.kind === 'handoff' ? 'transfer' : t.kind === 'unknown_tool' ? 'nope' : 'lookup';
      return { name, callId: `c${n}`, arguments: t.kind === 'broken_args' ? BROKEN_JSON_ARGUMENTS : { n } };
    });
    responses.push({
      input,
      ...(r.words ? { content: words(`${tag}.`, r.words) } : {}),
      ...(calls.length ? { toolCalls: calls } : {}),
      ttft: r.ttft,
      duration: r.ttft + r.streamMs,
    });
    const last = r.tools[r.tools.length - 1];
    if (last && (last.kind === 'ok' || last.kind === 'slow' || last.kind === 'tool_error') && r.toolReplyWords > 0) {
      responses.push({ input: last.kind === 'tool_error' ? `err${uid}` : `res${uid}`, content: words(`${tag}t.`, r.toolReplyWords), ttft: 200, duration: 400 });
    }
  };
  script.steps.forEach((st, i) => {
    if (st.kind === 'user' && st.transcript) addReply(userText(i), st.reply, `r${i}`);
    if (st.kind === 'typed') addReply(typedText(i), st.reply, `r${i}`);
  });
  const behaviour = (_call: number, args: Record<string, unknown>): ToolBehaviour => {
    const n = Number(args.n);
    const t = toolSpecs.get(n);
    switch (t?.kind) {
      case 'slow':
        return { kind: 'slow', ms: t.ms, result: `res${n}` };
      case 'tool_error':
        return { kind: 'tool_error', message: `err${n}` };
      case 'crash':
        return { kind: 'throw' };
      case 'hang':
        return { kind: 'never' };
      default:
        return { kind: 'ok', result: `res${n}` };
    }
  };
  let agents = 0;
  const lookup = scriptedTool('lookup', behaviour);
  const transfer = scriptedTool('transfer', () => ({ kind: 'handoff', agent: () => new Agent({ instructions: 'next agent', id: `agent_${++agents}` }) }));
  return { responses, lookup, transfer };
}

export const userText = (i: number) => words(`u${i}`, 3);
export const typedText = (i: number) => words(`t${i}`, 3);

export async function runFuzzScript(script: FuzzScript, opts: { onViolation?: (v: Violation) => void } = {}): Promise<FuzzOutcome> {
  vi.clearAllTimers();
  vi.setSystemTime(FUZZ_T0);
  const speech = new UserSpeechScript();
  const { responses, lookup, transfer } = scriptModels(script);
  const llm = new FaultyLLM(new FakeLLM(responses), (call) => script.llmFaults[call] ?? null);
  const faultyTts = new FaultyTTS(new FakeTTS([], { msPerChar: MS_PER_CHAR }), (call) => script.ttsFaults[call] ?? null);
  const tts = new TracedTTS(faultyTts, { msPerChar: MS_PER_CHAR });
  const stt = new FaultySTT(new FakeSTT(speech), (call) => (call === 0 ? script.sttFault : null));
  const actors = trackActors();
  const session = new AgentSession({
    vad: new FakeVAD(speech, { inferenceInterval: 100 }),
    stt,
    llm,
    tts,
    tools: [lookup, transfer],
    preemptiveGeneration: script.preemptive,
    // The invariants (every utterance reaches the history) assume the STT hears the user even during the agent's
    // first speech, which the AEC warm-up's echo window deliberately does not: off here (test/turnHandling*.test.ts).
    turnHandling: { aecWarmupDuration: 0 },
    inspect: actors.inspect,
  });
  const device = new FakeAudioOutput({ canPause: script.canPause });
  const stalling = script.canPause ? new StallingAudioOutput(device) : null;
  session.output.audio = stalling ?? device;
  session.input.audio = NEVER;
  const toolTimers = () => lookup.stats.timers + transfer.stats.timers;
  const monitor = watchInvariants(session, {
    tts,
    actors,
    timerCount: () => vi.getTimerCount() - toolTimers(),
    resources: [
      { name: 'LLM streams', live: () => llm.faults.live },
      { name: 'TTS streams', live: () => faultyTts.faults.live },
      { name: 'STT streams', live: () => stt.faults.live },
      { name: 'speech script listeners', live: () => speech.listenerCount },
    ],
  });
  let reported = 0;
  const flush = () => {
    for (; reported < monitor.violations.length; reported++) opts.onViolation?.(monitor.violations[reported]!);
  };
  await session.start({ agent: new Agent({ instructions: 'fuzz agent', id: 'agent_0' }) });
  let turns = 0;
  let actions = 0;
  const phases: Record<string, number> = {};
  const apiThrows: string[] = [];
  let userBusyUntil = 0;
  const f = script.sttFault;
  const sttFaultAt = f && (f.kind === 'complete_early' || f.kind === 'error_mid') && f.afterMs !== undefined ? f.afterMs : null;
  const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
  try {
    for (let i = 0; i < script.steps.length; i++) {
      const st = script.steps[i]!;
      await advance(st.gap);
      monitor.note(`script: ${JSON.stringify(st)}`);
      if (st.kind === 'user' || st.kind === 'noise') {
        // One user at a time: an utterance waits until the previous one (and the VAD's silence) is over.
        if (Date.now() < userBusyUntil) await advance(userBusyUntil - Date.now());
        const toolsPending = () => lookup.stats.pending + transfer.stats.pending > 0;
        const inPhase = () =>
          st.aim === 'tools' ? toolsPending() : st.aim === 'thinking' ? session.agentState === 'thinking' && !toolsPending() : session.agentState === st.aim;
        for (let waited = 0; st.aim && waited < 5000 && !inPhase(); waited += 100) await advance(100);
        // After the recognition stream failed or ended, the session must listen again (recognition restarts):
        // what the user says from 2 s after the fault on must still arrive.
        if (st.kind === 'user' && st.transcript && sttFaultAt !== null && Date.now() - FUZZ_T0 > sttFaultAt + 2000 && session.lifecycle === 'running') {
          monitor.expectUserMessage(userText(i), 'utterance after the STT stream ended');
        }
        speech.speak({ durationMs: st.dur, transcript: st.kind === 'user' && st.transcript ? userText(i) : '', sttDelay: st.kind === 'user' ? st.sttDelay : 0 });
        userBusyUntil = Date.now() + st.dur + 300;
        const phase = lookup.stats.pending + transfer.stats.pending > 0 ? `${session.agentState}+tools` : session.agentState;
        phases[phase] = (phases[phase] ?? 0) + 1;
      } else {
        safely(monitor, st.kind, apiThrows, () => {
          if (st.kind === 'typed') {
            // A session the error budget closed refuses new input, as documented: nothing is owed then.
            if (session.lifecycle === 'running') monitor.expectUserMessage(typedText(i));
            session.generateReply({ userInput: typedText(i) });
          } else if (st.kind === 'say') session.say(words(`s${i}.`, st.words), { allowInterruptions: st.allowInterruptions });
          else if (st.kind === 'generate') session.generateReply();
          else if (st.kind === 'interrupt') void session.interrupt().catch(() => undefined);
          else if (st.kind === 'update_agent') session.updateAgent(new Agent({ instructions: 'updated agent', id: `agent_u${i}` }));
          else if (st.kind === 'stall') stalling?.stall(st.ms);
        });
      }
      if (isTurn(st)) turns++;
      else actions++;
      monitor.check();
      flush();
    }
    await advance(SETTLE_MS);
    monitor.check({ settled: lookup.stats.pending === 0 && transfer.stats.pending === 0 });
    flush();
    let closed = false;
    const closing = session.close().then(() => {
      closed = true;
      monitor.checkClosed();
    });
    await advance(CLOSE_BOUND_MS);
    if (!closed) monitor.record('released_on_close', `close() did not resolve within ${CLOSE_BOUND_MS} ms`);
    void closing.catch((e) => monitor.record('released_on_close', `close() rejected: ${(e as Error).message}`));
    flush();
    return { violations: monitor.violations, turns, actions, phases, apiThrows };
  } finally {
    monitor.stop();
    vi.clearAllTimers();
  }
}

/** An API call that throws synchronously is a finding too (the session must answer with an error event instead). */
function safely(monitor: ReturnType<typeof watchInvariants>, what: string, throws: string[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    monitor.note(`script: ${what} threw ${(e as Error).message}`);
    throws.push(`${what}: ${(e as Error).message}`);
  }
}
