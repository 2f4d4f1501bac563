/**
 * A test agent with a real session: Silero VAD loaded once in prewarm, a fixture recording as the user's
 * microphone, a scripted LLM, the embedded Flite voice; it greets, lets the recording play, then ends the job. onSessionEnd writes
 * the report where the worker's reportDir says.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concat, map, range } from 'rxjs';
import { AgentSession, Agent, readWav, paceRealTime, AudioFrame, FliteTTS } from '../../../src/index.ts';
import { SileroVAD } from '../../../src/plugins/silero/index.ts';
import { FakeAudioOutput, FakeLLM } from '../../../src/testing/index.ts';
import { defineAgent, writeSessionReport } from '../../../src/worker/index.ts';

const FIXTURE = new URL('../../fixtures/utterance-a-16k.wav', import.meta.url).pathname;

export default defineAgent({
  prewarm: async (proc) => {
    proc.userdata.vad = await SileroVAD.load();
  },
  entry: async (ctx) => {
    await ctx.connect();
    const session = new AgentSession({
      vad: ctx.proc.userdata.vad as SileroVAD,
      llm: new FakeLLM([]),
      tts: new FliteTTS(),
      turnHandling: { turnDetection: 'manual' },
      userAwayTimeout: null,
    });
    ctx.setPrimarySession(session);
    session.input.audio = concat(readWav(FIXTURE), range(0, 25).pipe(map(() => new AudioFrame(new Int16Array(320), 16000, 1, 320)))).pipe(paceRealTime());
    session.output.audio = new FakeAudioOutput();
    await session.start({ agent: new Agent({ instructions: 'Greet the user.' }) });
    await session.say('Hello from the report test.').waitForPlayout();
    await ctx.agent!.setAttributes({ 'test.job': ctx.job.id });
    // Where the VAD ran, for the test: the worker's inference host (the default) leaves onnxruntime unloaded here.
    const vad = ctx.proc.userdata.vad as SileroVAD;
    const onnxruntimeMapped = readFileSync('/proc/self/maps', 'utf8').includes('libonnxruntime');
    writeFileSync(join(ctx.reportDir, `vad-${ctx.job.id}.json`), JSON.stringify({ model: vad.model.constructor.name, onnxruntimeMapped }));
    await new Promise((r) => setTimeout(r, 2500));
    ctx.shutdown('test finished');
  },
  onSessionEnd: async (ctx, report) => {
    writeSessionReport(report, undefined, ctx.reportDir);
  },
});
