/**
 * One cold first turn in a fresh process (spawned by bench/coldTurn.bench.ts): a session on driven VAD/STT, an
 * instant LLM and a 24 kHz instant TTS, an output that names its rate; started, the user speaks once (20 ms after
 * the start, for 200 ms), and one JSON line is printed: end of that turn → first frame at the output (ms), and the
 * startup time (process start → session started).
 *   argv: <mode: vad|stt> <output rate, Hz> <prep: none|warmup|preload-start|preload-module>
 * - vad mode: VAD start → VAD end → final transcript (the end of turn; endpointing 0)
 * - stt mode: no VAD; STT start → final transcript → STT end of speech (the end of turn)
 * - prep: warmup runs `warmUp()` before the session; preload-start starts loading the resampler when the session
 *   starts; preload-module starts it before the framework's modules are even imported (as a module-level load would).
 * COLD_TURN_PROFILE=1 also prints the measured window's CPU profile summary to stderr (diagnosis only).
 */
const [modeArg, rateArg, prep = 'none'] = process.argv.slice(2);
const mode = modeArg === 'stt' ? 'stt' : 'vad';
const outRate = Number(rateArg ?? 24000);

if (prep === 'preload-module') (await import('../../src/audio/speex.ts')).preloadSpeex();
const { Agent, AgentSession } = await import('../../src/index.ts');
const { FakeAudioOutput, silentAudio } = await import('../../src/testing/index.ts');
const { DrivenSTT, DrivenVAD, InstantLLM, InstantTTS, vadEvent } = await import('./instant.ts');
const { sleep } = await import('./stats.ts');
const profile = process.env.COLD_TURN_PROFILE === '1';
const profiler = profile ? await import('./profiler.ts') : null;

let warmUpMs: number | undefined;
if (prep === 'warmup') warmUpMs = (await (await import('../../src/warmup.ts')).warmUp({ outputSampleRate: outRate })).ms;

const vad = mode === 'vad' ? new DrivenVAD() : undefined;
const stt = new DrivenSTT();
const session = new AgentSession({
  vad,
  stt,
  llm: new InstantLLM(),
  tts: new InstantTTS(1),
  turnHandling: { turnDetection: mode, endpointing: { minDelay: 0, maxDelay: 0 } },
  userAwayTimeout: null,
});
const output = new FakeAudioOutput({ sampleRate: outRate });
session.output.audio = output;
session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 });
if (prep === 'preload-start') (await import('../../src/session/outputFormat.ts')).prepareAudioOutput(output, 24000);
await session.start({ agent: new Agent({ instructions: 'bench' }) });
const startupMs = performance.now(); // since the process started

let firstFrame: ((t: number) => void) | null = null;
const capture = output.captureFrame.bind(output);
output.captureFrame = (f) => {
  firstFrame?.(performance.now());
  firstFrame = null;
  capture(f);
};
const got = new Promise<number>((r) => (firstFrame = r));

await sleep(20);
let t0: number;
if (mode === 'vad') {
  vad!.events.next(vadEvent('start_of_speech'));
  await sleep(200);
  vad!.events.next(vadEvent('end_of_speech'));
  await sleep(1);
  if (profiler) await profiler.startProfile(100);
  t0 = performance.now();
  stt.events.next({ type: 'final_transcript', alternatives: [{ text: 'question' }] });
} else {
  stt.events.next({ type: 'start_of_speech' });
  await sleep(200);
  stt.events.next({ type: 'final_transcript', alternatives: [{ text: 'question' }] });
  await sleep(1);
  if (profiler) await profiler.startProfile(100);
  t0 = performance.now();
  stt.events.next({ type: 'end_of_speech' });
}
const t1 = await Promise.race([got, sleep(5000).then(() => NaN)]);
if (profiler) process.stderr.write(JSON.stringify(profiler.selfTimes(await profiler.stopProfile()), null, 1) + '\n');
await session.close();
process.stdout.write(JSON.stringify({ mode, outRate, prep, ms: t1 - t0, startupMs, warmUpMs }) + '\n');
process.exit(0);
