// A plain JavaScript consumer of the packed voicechart (run by test/packaging.test.ts with node, no TypeScript
// loader): every subpath loads, then one real turn runs — a WAV of speech → RNNoise → Silero VAD → a request/response
// STT → a scripted LLM → Flite → resampled to 48 kHz → an output that records the frames. The WASM modules, the
// Flite worker and the Silero model all load from the installed package. Prints one JSON line with what it saw.
import { concat, of } from 'rxjs';
import { Agent, AgentSession, AudioFrame, readWav, rechunk, paceRealTime } from 'voicechart';
import { FakeAudioOutput, FakeLLM } from 'voicechart/testing';
import { SileroVAD } from 'voicechart/plugins/silero';
import { rnnoise } from 'voicechart/noise';
import { FliteTTS } from 'voicechart/plugins/flite';
import { TranscriptionSTT } from 'voicechart/plugins/openai';

const subpaths = ['voicechart', 'voicechart/testing', 'voicechart/machines', 'voicechart/plugins/openai', 'voicechart/plugins/groq',
  'voicechart/plugins/silero', 'voicechart/plugins/flite', 'voicechart/plugins/espeak', 'voicechart/plugins/turn-detector', 'voicechart/noise'];
const exportsOf = {};
for (const s of subpaths) exportsOf[s] = Object.keys(await import(s)).sort();

/** Keeps every frame it is given, and plays them in real time like a speaker. */
class RecordingOutput extends FakeAudioOutput {
  frames = [];
  captureFrame(frame) {
    this.frames.push(frame);
    super.captureFrame(frame);
  }
}

const uploads = [];
const stt = new TranscriptionSTT('scripted-stt', 'script', async (wav) => (uploads.push(wav.length), { text: 'Hello there' }));
const llm = new FakeLLM([{ input: 'Hello there', content: 'Hi! How can I help?', ttft: 100, duration: 200 }]);
const session = new AgentSession({ vad: await SileroVAD.load(), stt, llm, tts: new FliteTTS(), noiseCancellation: rnnoise() });
const output = new RecordingOutput({ sampleRate: 48000 });
session.output.audio = output;
await session.start({ agent: new Agent({ instructions: 'Be brief.' }) });

const reply = new Promise((resolve) => session.on('speech_created', ({ speechHandle }) => resolve(speechHandle)));
const silence = (ms) => of(AudioFrame.silence(16000, 1, ms));
session.input.audio = concat(silence(300), readWav(process.argv[2]), silence(1500)).pipe(rechunk(20), paceRealTime());
const timeout = setTimeout(() => (console.error('no reply within 20 s'), process.exit(1)), 20_000);
await (await reply).waitForPlayout();
clearTimeout(timeout);
await session.close();

const peak = output.frames.reduce((m, f) => f.data.reduce((a, v) => Math.max(a, Math.abs(v)), m), 0);
console.log(JSON.stringify({
  exports: exportsOf,
  uploads,
  history: session.history.messages().map((m) => ({ role: m.role, text: m.content.join(''), interrupted: m.interrupted })),
  frames: output.frames.length,
  sampleRate: output.frames[0]?.sampleRate,
  audioMs: output.frames.reduce((ms, f) => ms + f.durationMs, 0),
  peak,
  segments: output.segments,
}));
