/**
 * `voicechart console`: runs the example agent locally, without a LiveKit server, and prints a live transcript
 * with agent and user states, then writes a JSON session report.
 */
import { writeFileSync } from 'node:fs';
import { NEVER } from 'rxjs';
import { Receptionist } from '../../examples/assistant.ts';
import { demoLLM, demoUtterances } from '../../examples/scriptedProviders.ts';
import { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent } from '../session/events.ts';
import { EspeakTTS } from '../plugins/espeak/index.ts';
import { FliteTTS } from '../plugins/flite/index.ts';
import { FakeSTT, FakeTTS, FakeVAD, UserSpeechScript } from '../testing/index.ts';
import { WavRecordingOutput } from './wavRecordingOutput.ts';
import { TerminalTranscript } from './consoleOutput.ts';
import { sessionReport } from './report.ts';

export interface ConsoleOptions {
  report: string;
  /** Where the agent's speech (what the user heard) is written. */
  output: string;
  /** 'flite' (embedded, default), 'espeak' (system espeak-ng) or 'silent' (scripted timing only). */
  tts: 'flite' | 'espeak' | 'silent';
  /** Lines the user "types" instead of speaking, one per turn. */
  text: string[];
  quiet: boolean;
}

export async function runConsole(opts: ConsoleOptions): Promise<number> {
  const out = (s: string) => {
    if (!opts.quiet) process.stdout.write(s);
  };
  out('voicechart console — example agent: Receptionist\n');
  out('No STT/LLM provider is configured: using the scripted testing-kit STT and LLM, so the whole pipeline runs\n');
  out(`end to end with a scripted user. Speech: ${opts.tts} TTS. (Real providers: see README, "Providers".)\n\n`);

  const script = new UserSpeechScript(opts.text.length ? [] : demoUtterances);
  const session = new AgentSession({
    vad: new FakeVAD(script),
    stt: new FakeSTT(script),
    llm: demoLLM(),
    tts: opts.tts === 'flite' ? new FliteTTS() : opts.tts === 'espeak' ? new EspeakTTS() : new FakeTTS([], { msPerChar: 55 }),
    userAwayTimeout: 20_000,
  });
  const audio = new WavRecordingOutput(opts.output);
  session.output.audio = audio;
  session.output.transcription = new TerminalTranscript(out);
  session.input.audio = NEVER;

  const events: AgentSessionEvent[] = [];
  session.events$.subscribe((e) => events.push(e));
  const startedAt = Date.now();
  const t = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s`;
  session.on('agent_state_changed', (e) => out(`${t()} [agent ${e.newState}]\n`));
  session.on('user_state_changed', (e) => out(`${t()} [user ${e.newState}]\n`));
  session.on('user_input_transcribed', (e) => e.isFinal && out(`${t()}   user › ${e.transcript}\n`));
  session.on('function_tools_executed', (e) =>
    e.functionCalls.forEach((c, i) => out(`${t()}   tool › ${c.name}(${c.arguments}) → ${e.functionCallOutputs[i]!.output}\n`)),
  );
  session.on('error', (e) => out(`${t()}  error › ${e.source} ${e.label}: ${e.error.message}\n`));

  await session.start({ agent: new Receptionist() });
  if (opts.text.length) {
    for (const line of opts.text) {
      await waitIdle(session);
      out(`${t()}   user ⌨ ${line}\n`);
      await session.generateReply({ userInput: line }).waitForPlayout();
    }
  } else {
    const end = Math.max(...demoUtterances.map((u) => u.end)) + 5000;
    await new Promise((r) => setTimeout(r, end));
  }
  await waitIdle(session);
  await session.close();
  const report = sessionReport(session, events, startedAt);
  writeFileSync(opts.report, JSON.stringify(report, null, 2));
  out(`\nsession closed after ${(report.durationMs / 1000).toFixed(1)} s: ${session.history.messages().length} messages, `);
  out(`${report.errors.length} errors; report written to ${opts.report}, agent speech to ${opts.output}\n`);
  return report.errors.some((e) => !e.recoverable) ? 1 : 0;
}

async function waitIdle(session: AgentSession<any>): Promise<void> {
  while (session.agentState !== 'listening' || session.currentSpeech) await new Promise((r) => setTimeout(r, 50));
}
