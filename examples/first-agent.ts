import { z } from 'zod';
import { concat, map, of } from 'rxjs';
import { Agent, AgentSession, AudioFrame, functionTool, paceRealTime, rechunk, type SpeechHandle } from 'voicechart';
import { SileroVAD } from 'voicechart/plugins/silero';
import { FliteTTS } from 'voicechart/plugins/flite';
import { TranscriptionSTT } from 'voicechart/plugins/openai';
import { FakeAudioOutput, FakeLLM } from 'voicechart/testing';

const getWeather = functionTool({
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

class Assistant extends Agent {
  constructor() {
    super({ instructions: 'You are a helpful voice assistant.', tools: [getWeather] });
  }
  override onEnter() {
    this.session.say('Hi! Ask me about the weather.');
  }
}

// Offline stand-ins, so this runs anywhere: with keys, use `new OpenAISTT()` and `new OpenAILLM()` instead.
const question = 'What is the weather in Paris?';
const stt = new TranscriptionSTT('scripted-stt', 'script', async () => ({ text: question }));
const llm = new FakeLLM([
  { input: question, toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], ttft: 200 },
  { input: 'sunny in Paris', content: 'It is sunny in Paris today.', ttft: 200, duration: 400 },
]);
const session = new AgentSession({ stt, llm, tts: new FliteTTS(), vad: await SileroVAD.load() });

const speaker = new FakeAudioOutput(); // plays in real time; a LiveKit room or a sound card would go here
session.output.audio = speaker;
session.on('conversation_item_added', ({ item }) => item.type === 'message' && console.log(`${item.role}: ${item.content.join('')}`));
await session.start({ agent: new Assistant() });
await session.currentSpeech?.waitForPlayout(); // the greeting

// The user's microphone (an Observable<AudioFrame>): here another Flite voice asks the question, in real time.
const voice = new FliteTTS({ voice: 'rms' }).synthesize(question).pipe(map((a) => a.frame));
const reply = new Promise<SpeechHandle>((resolve) =>
  session.on('speech_created', ({ source, speechHandle }) => source === 'generate_reply' && resolve(speechHandle)),
);
session.input.audio = concat(of(AudioFrame.silence(16000, 1, 500)), voice, of(AudioFrame.silence(16000, 1, 1500))).pipe(rechunk(20), paceRealTime());
await (await reply).waitForPlayout();

await session.close();
const heard = speaker.segments.reduce((ms, s) => ms + s.playedMs, 0);
console.log(`agent audio played: ${Math.round(heard)} ms in ${speaker.segments.length} segments`);
