// A TypeScript consumer of the packed voicechart, type-checked by test/packaging.test.ts under `module: NodeNext`
// (strict, declarations of every package checked): each subpath resolves to real declarations, not `any`.
import { z } from 'zod';
import { Observable } from 'rxjs';
import { Agent, AgentSession, AudioFrame, functionTool, type AgentSessionOptions, type AudioOutput, type ChatMessage, type LLM, type STT, type TTS, type VAD } from 'voicechart';
import { FakeAudioOutput, FakeLLM, FakeSTT, FakeTTS, FakeVAD, UserSpeechScript, recordEvents } from 'voicechart/testing';
import { machines, sessionMachine } from 'voicechart/machines';
import { OpenAILLM, OpenAIRealtimeSTT, OpenAISTT, OpenAITTS, TranscriptionSTT } from 'voicechart/plugins/openai';
import { GroqLLM, GroqSTT, GroqTTS } from 'voicechart/plugins/groq';
import { SileroVAD } from 'voicechart/plugins/silero';
import { FliteTTS, type FliteVoice } from 'voicechart/plugins/flite';
import { EspeakTTS } from 'voicechart/plugins/espeak';
import { OnnxTurnDetector, type TextTurnDetector } from 'voicechart/plugins/turn-detector';
import { rnnoise, type NoiseCancellation } from 'voicechart/noise';

const script = new UserSpeechScript([{ start: 0, end: 500, transcript: 'hi' }]);
const vad: VAD = new FakeVAD(script);
const stt: STT = new FakeSTT(script);
const llm: LLM = new FakeLLM([{ input: 'hi', content: 'hello' }]);
const tts: TTS = new FakeTTS([]);
const output: AudioOutput = new FakeAudioOutput();
const noise: NoiseCancellation = rnnoise();
const options: AgentSessionOptions = { vad, stt, llm, tts, noiseCancellation: noise };

// Tool arguments are inferred from the zod schema the consumer wrote with its own zod (a shared peer).
const add = functionTool({
  name: 'add',
  description: 'Adds one',
  parameters: z.object({ n: z.number() }),
  execute: async ({ n }) => n + 1,
});

export async function build(): Promise<{ session: AgentSession; voices: FliteVoice[]; history: ChatMessage[] }> {
  const session = new AgentSession(options);
  session.output.audio = output;
  session.input.audio = new Observable<AudioFrame>((sub) => sub.next(AudioFrame.silence(16000, 1, 20)));
  recordEvents(session);
  await session.start({ agent: new Agent({ instructions: 'Be brief.', tools: [add] }) });
  const vads: VAD[] = [await SileroVAD.load()];
  const stts: STT[] = [new OpenAISTT({ apiKey: 'k' }), new GroqSTT({ apiKey: 'k' }), new OpenAIRealtimeSTT({ apiKey: 'k' }), new TranscriptionSTT('x', 'y', async () => ({ text: '' }))];
  const llms: LLM[] = [new OpenAILLM({ model: 'gpt-4.1-mini', apiKey: 'k' }), new GroqLLM({ model: 'llama-3.3-70b-versatile', apiKey: 'k' })];
  const ttss: TTS[] = [new OpenAITTS({ apiKey: 'k' }), new GroqTTS({ apiKey: 'k' }), new FliteTTS({ voice: 'kal16' }), new EspeakTTS()];
  // Both kinds of end-of-turn model are accepted as the session's turnDetection.
  const words: TextTurnDetector = { label: 'words', unlikelyThreshold: 0.5, predictEndOfTurn: async (t, { chatCtx }) => (t.endsWith('.') || !chatCtx ? 1 : 0) };
  const detectors: AgentSessionOptions['turnHandling'][] = [{ turnDetection: words }, { turnDetection: null as unknown as OnnxTurnDetector }];
  void [vads, stts, llms, ttss, detectors, machines.session, sessionMachine.id];
  // @ts-expect-error: the declarations are precise — an unknown voice is a type error, not `any`.
  new FliteTTS({ voice: 'no-such-voice' });
  return { session, voices: ['slt', 'rms'], history: session.history.messages() };
}
