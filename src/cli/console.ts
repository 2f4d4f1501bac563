/**
 * `voicechart console`: runs the example agent locally, without a LiveKit server, and prints a live transcript
 * with agent and user states, then writes a JSON session report.
 */
import { writeFileSync } from 'node:fs';
import { concat, lastValueFrom, NEVER, range, map, tap } from 'rxjs';
import { AudioFrame } from '../audio/frame.ts';
import { paceRealTime } from '../audio/operators.ts';
import { readWav } from '../audio/wav.ts';
import { SileroVAD } from '../plugins/silero/index.ts';
import { Receptionist } from '../../examples/assistant.ts';
import { demoLLM, SAMPLE_INPUT, sampleUtterances } from '../../examples/scriptedProviders.ts';
import { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent } from '../session/events.ts';
import { EspeakTTS } from '../plugins/espeak/index.ts';
import { GroqLLM } from '../plugins/groq/llm.ts';
import { OpenAILLM } from '../plugins/openai/llm.ts';
import type { LLM, STT } from '../providers/types.ts';
import { OpenAISTT } from '../plugins/openai/stt.ts';
import { GroqSTT } from '../plugins/groq/stt.ts';
import { wavTruncation } from './wavCheck.ts';
import { FliteTTS } from '../plugins/flite/index.ts';
import { FakeSTT, FakeTTS, FakeVAD, UserSpeechScript } from '../testing/index.ts';
import { WavRecordingOutput } from './wavRecordingOutput.ts';
import { TerminalTranscript } from './consoleOutput.ts';
import { sessionReport } from './report.ts';

export interface ConsoleOptions {
  /** A WAV file streamed in real time as the user's microphone (real Silero VAD). */
  input?: string;
  /** An OpenAI-compatible server (Ollama, vLLM, llama.cpp) for the LLM; `llmModel` names the model there. */
  llmBaseUrl?: string;
  llmModel?: string;
  /** An OpenAI-compatible transcription server (whisper.cpp, vLLM, speaches); `sttModel` names the model. */
  sttBaseUrl?: string;
  sttModel?: string;
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
  const llm = chooseLLM(opts);
  const realStt = chooseSTT(opts);
  out(`LLM: ${llm ? llm.label : 'scripted (no provider configured)'}. STT: ${realStt ? realStt.label : 'scripted (no provider configured)'}.\n`);
  if (!llm || !realStt) {
    out('Scripted mode can answer exactly two things, the questions spoken in the shipped sample: "What time is it?"\n');
    out('and "Could you book a table for two at eight?". Anything else (your own recording, other typed text) gets\n');
    out('"I cannot tell what you said". For real answers set OPENAI_API_KEY or GROQ_API_KEY, or pass --llm-base-url\n');
    out('and --stt-base-url (any OpenAI-compatible server).\n');
  }
  out(`Speech: ${opts.tts} TTS.\n\n`);

  // Audio input unless the user types: the shipped sample by default, whose words the scripted STT knows.
  const input = opts.text.length ? undefined : (opts.input ?? SAMPLE_INPUT);
  const knownWords = input === SAMPLE_INPUT;
  const script = new UserSpeechScript(knownWords && !realStt ? sampleUtterances : []);
  if (input) {
    const truncated = wavTruncation(input);
    if (truncated) process.stderr.write(`voicechart: warning: ${input} is truncated (${truncated}); playing what is there\n`);
    out(`Input: ${input}, streamed in real time through the local Silero VAD.\n`);
    if (!realStt) out(knownWords ? 'No STT provider is configured: a scripted STT supplies the words spoken in the sample.\n' : 'No STT provider is configured, so your recording becomes turns without words.\n');
  }
  const session = new AgentSession({
    vad: input ? await SileroVAD.load() : new FakeVAD(script),
    stt: input && realStt ? realStt : !input || knownWords ? new FakeSTT(script) : null,
    llm: llm ?? demoLLM(),
    tts: opts.tts === 'flite' ? new FliteTTS() : opts.tts === 'espeak' ? new EspeakTTS() : new FakeTTS([], { msPerChar: 55 }),
    userAwayTimeout: 20_000,
    // Input from a file, output to a file: no loudspeaker reaches a microphone, so there is no echo to warm up for.
    turnHandling: { aecWarmupDuration: 0 },
  });
  const audio = new WavRecordingOutput(opts.output);
  session.output.audio = audio;
  session.output.transcription = new TerminalTranscript(out);
  // A file ends; a microphone does not: trailing silence lets the VAD see the last utterance end.
  session.input.audio = input ? concat(readWav(input), silenceFrames(1500)).pipe(paceRealTime()) : NEVER;

  const events: AgentSessionEvent[] = [];
  session.events$.subscribe((e) => events.push(e));
  const startedAt = Date.now();
  const t = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s`;
  session.on('agent_state_changed', (e) => out(`${t()} [agent ${e.newState}]\n`));
  session.on('user_state_changed', (e) => out(`${t()} [user ${e.newState}]\n`));
  session.on('user_input_transcribed', (e) => e.isFinal && out(`${t()}   user › ${e.transcript}\n`));
  session.on('conversation_item_added', ({ item }) => item.type === 'message' && item.role === 'user' && !item.content.join('').trim() && out(`${t()}   user › (speech, no transcript)\n`));
  session.on('function_tools_executed', (e) =>
    e.functionCalls.forEach((c, i) => out(`${t()}   tool › ${c.name}(${c.arguments}) → ${e.functionCallOutputs[i]!.output}\n`)),
  );
  session.on('error', (e) => out(`${t()}  error › ${e.source} ${e.label}: ${e.error.message}\n`));

  await session.start({ agent: new Receptionist() });
  if (input) {
    let ms = 0;
    await lastValueFrom(readWav(input).pipe(tap((f) => (ms += f.durationMs))), { defaultValue: null });
    await new Promise((r) => setTimeout(r, ms + 2500));
  } else {
    for (const line of opts.text) {
      await waitIdle(session);
      out(`${t()}   user ⌨ ${line}\n`);
      await session.generateReply({ userInput: line }).waitForPlayout();
    }
  }
  await waitIdle(session);
  await session.close();
  const report = sessionReport(session, events, startedAt);
  writeFileSync(opts.report, JSON.stringify(report, null, 2));
  out(`\nsession closed after ${(report.durationMs / 1000).toFixed(1)} s: ${session.history.messages().length} messages, `);
  out(`${report.errors.length} errors; report written to ${opts.report}, agent speech to ${opts.output}\n`);
  const e2e = report.replies.flatMap((r) => (r.e2eLatency === null ? [] : [r.e2eLatency])).sort((a, b) => a - b);
  if (e2e.length) out(`user stopped speaking → agent speaking: median ${Math.round(e2e[Math.floor(e2e.length / 2)]!)} ms over ${e2e.length} replies\n`);
  return report.errors.some((e) => !e.recoverable) ? 1 : 0;
}

const silenceFrames = (ms: number) => range(0, ms / 20).pipe(map(() => new AudioFrame(new Int16Array(320), 16000, 1, 320)));

/** A real STT when one is configured: an explicit OpenAI-compatible URL, else OpenAI, else Groq. */
function chooseSTT(opts: ConsoleOptions): STT | null {
  if (opts.sttBaseUrl) return new OpenAISTT({ model: opts.sttModel ?? 'whisper-1', baseURL: opts.sttBaseUrl });
  if (process.env.OPENAI_API_KEY) return new OpenAISTT({ model: opts.sttModel ?? 'gpt-4o-transcribe' });
  if (process.env.GROQ_API_KEY) return new GroqSTT({ model: opts.sttModel ?? 'whisper-large-v3-turbo' });
  return null;
}

/** A real LLM when one is configured: an explicit OpenAI-compatible URL, else OpenAI, else Groq. */
function chooseLLM(opts: ConsoleOptions): LLM | null {
  if (opts.llmBaseUrl) return new OpenAILLM({ model: opts.llmModel ?? 'llama3.2', baseURL: opts.llmBaseUrl });
  if (process.env.OPENAI_API_KEY) return new OpenAILLM({ model: opts.llmModel ?? 'gpt-4.1-mini' });
  if (process.env.GROQ_API_KEY) return new GroqLLM({ model: opts.llmModel ?? 'llama-3.3-70b-versatile' });
  return null;
}

async function waitIdle(session: AgentSession<any>): Promise<void> {
  while (session.agentState !== 'listening' || session.currentSpeech) await new Promise((r) => setTimeout(r, 50));
}
