import { NEVER } from 'rxjs';
import { vi } from 'vitest';
import { Agent, AgentSession, type AgentSessionOptions } from '../../src/index.ts';
import {
  FakeAudioOutput,
  FakeLLM,
  FakeSTT,
  FakeTextOutput,
  FakeTTS,
  FakeVAD,
  recordEvents,
  UserSpeechScript,
  type FakeLLMResponse,
  type FakeTTSResponse,
  type FakeVADOptions,
  type ScriptedUtterance,
} from '../../src/testing/index.ts';

export const T0 = 1_000_000;

export interface HarnessOptions {
  utterances?: ScriptedUtterance[];
  llm?: FakeLLMResponse[];
  tts?: FakeTTSResponse[];
  vadOptions?: FakeVADOptions;
  canPause?: boolean;
  session?: Partial<AgentSessionOptions<any>>;
  agent?: Agent;
  noStt?: boolean;
  noVad?: boolean;
}

/** A session wired to the fakes of `voicechart/testing`, started at virtual time T0. */
export async function startHarness(o: HarnessOptions = {}) {
  const script = new UserSpeechScript(o.utterances ?? []);
  const llm = new FakeLLM(o.llm ?? []);
  const tts = new FakeTTS(o.tts ?? []);
  const session = new AgentSession({
    vad: o.noVad ? null : new FakeVAD(script, o.vadOptions),
    stt: o.noStt ? null : new FakeSTT(script),
    llm,
    tts,
    ...o.session,
    // Scenarios barge in during the agent's first speech: the AEC warm-up (default 3000 ms) is off unless a test sets it.
    turnHandling: { aecWarmupDuration: 0, ...o.session?.turnHandling },
  });
  const output = new FakeAudioOutput({ canPause: o.canPause ?? false });
  const text = new FakeTextOutput();
  session.output.audio = output;
  session.output.transcription = text;
  session.input.audio = NEVER;
  const rec = recordEvents(session);
  const agent = o.agent ?? new Agent({ instructions: 'You are a test agent.' });
  const base = Date.now();
  await session.start({ agent });
  /** ms since this harness started */
  const now = () => Date.now() - base;
  const at = (ms: number) => vi.advanceTimersByTimeAsync(Math.max(0, base + ms - Date.now()));
  const stateAt = (type: 'agent_state_changed' | 'user_state_changed', state: string) =>
    rec.of(type).filter((e) => e.newState === state).map((e) => e.createdAt - base);
  return { session, script, llm, tts, output, text, rec, agent, now, at, stateAt };
}

export function useVirtualTime(): void {
  vi.useFakeTimers({ now: T0 });
}

export const historyText = (session: AgentSession<any>) =>
  session.history.items.map((i) =>
    i.type === 'message'
      ? `${i.role}: ${i.content.join(' ')}${i.interrupted ? ' [interrupted]' : ''}`
      : i.type === 'function_call'
        ? `call ${i.name}(${i.arguments})`
        : i.type === 'function_call_output'
          ? `output ${i.name}: ${i.output}${i.isError ? ' [error]' : ''}`
          : i.type === 'agent_handoff'
            ? `handoff ${i.oldAgentId ?? '-'} -> ${i.newAgentId}`
            : i.type,
  );
