/**
 * CPU profile of the two warm latency paths of bench/core.bench.ts, counting only the samples inside the measured
 * windows: end of turn (final transcript) → first frame, and barge-in (VAD inference) → output cleared.
 *   node --expose-gc --import tsx bench/lib/warmProfile.ts [turns=1000] [bargeIns=300] > profile.json
 */
import { Agent, AgentSession } from '../../src/index.ts';
import { FakeAudioOutput, silentAudio } from '../../src/testing/index.ts';
import { DrivenSTT, DrivenVAD, InstantLLM, InstantTTS, vadEvent } from './instant.ts';
import { profilerNowUs, selfTimes, startProfile, stopProfile } from './profiler.ts';
import { sleep } from './stats.ts';
import { measureTurns } from './turns.ts';

const [turns = 1000, bargeIns = 300] = process.argv.slice(2).map(Number);
const warmup = 500;

async function turnWindows(): Promise<Array<[number, number]>> {
  const windows: Array<[number, number]> = [];
  let t0 = 0;
  let n = 0;
  await measureTurns(new InstantLLM(), warmup + turns, undefined, {
    beforeTurn: () => (t0 = profilerNowUs()),
    afterFirstFrame: () => {
      if (n++ >= warmup) windows.push([t0, profilerNowUs()]);
    },
  });
  return windows;
}

async function bargeInWindows(n: number): Promise<Array<[number, number]>> {
  const vad = new DrivenVAD();
  const session = new AgentSession({
    vad,
    stt: new DrivenSTT(),
    llm: new InstantLLM(),
    tts: new InstantTTS(500),
    turnHandling: { endpointing: { minDelay: 0, maxDelay: 0 }, interruption: { minDuration: 0 }, aecWarmupDuration: 0 }, // barge-in from the first speech on
    userAwayTimeout: null,
  });
  const output = new FakeAudioOutput();
  session.output.audio = output;
  session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 });
  await session.start({ agent: new Agent({ instructions: 'bench' }) });
  const windows: Array<[number, number]> = [];
  let cleared: (() => void) | null = null;
  const clear = output.clearBuffer.bind(output);
  output.clearBuffer = () => {
    cleared?.();
    clear();
  };
  for (let i = 0; i < n + 20; i++) {
    const h = session.say('A long answer that the user will cut short.');
    while (session.agentState !== 'speaking') await sleep(2);
    await sleep(10);
    vad.events.next(vadEvent('start_of_speech'));
    const got = new Promise<number>((r) => (cleared = () => r(profilerNowUs())));
    const t0 = profilerNowUs();
    vad.events.next(vadEvent('inference_done', { speechDuration: 100 }));
    const t1 = await got;
    cleared = null;
    if (i >= 20) windows.push([t0, t1]);
    await h.waitForPlayout();
    vad.events.next(vadEvent('end_of_speech'));
    await sleep(5);
  }
  await session.close();
  return windows;
}

await startProfile(25);
const tw = await turnWindows();
const bw = await bargeInWindows(bargeIns);
const profile = await stopProfile();
const median = (w: Array<[number, number]>) => w.map(([a, b]) => (b - a) / 1000).sort((x, y) => x - y)[Math.floor(w.length / 2)];
console.log(
  JSON.stringify(
    {
      note: 'profiled (25 µs sampling): latencies are inflated; self times are summed over all windows',
      endOfTurnToFirstFrame: { windows: tw.length, p50MsUnderProfiler: median(tw), ...selfTimes(profile, 30, tw) },
      bargeInToOutputCleared: { windows: bw.length, p50MsUnderProfiler: median(bw), ...selfTimes(profile, 30, bw) },
    },
    null,
    1,
  ),
);
process.exit(0);
