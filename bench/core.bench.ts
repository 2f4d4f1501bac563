/**
 * Core overhead: zero-latency providers, endpointing 0, real-time paced input (20 ms frames).
 * - turn: final transcript (end of user turn) → first TTS frame at the output, p50/p95 over ≥ 50 turns
 * - turnStatecharts: the statechart work of a warm turn (events processed, microsteps taken), counted apart
 * - bargeIn: VAD activity that interrupts → output buffer cleared
 * - listening: heap per session, heap growth per session-second, CPU per session-second at N = 1, 10, 100
 * Run with `npm run bench -- core` (BENCH_LISTEN_SECONDS shortens the listening window).
 */
import { Agent, AgentSession } from '../src/index.ts';
import { FakeAudioOutput, silentAudio } from '../src/testing/index.ts';
import { DrivenSTT, DrivenVAD, InstantLLM, InstantTTS, vadEvent } from './lib/instant.ts';
import { measureTurns } from './lib/turns.ts';
import { countTurnEvents } from './lib/warmEvents.ts';
import { gc, round, sleep, summary } from './lib/stats.ts';

function makeSession(frames = 50) {
  const vad = new DrivenVAD();
  const stt = new DrivenSTT();
  const session = new AgentSession({
    vad,
    stt,
    llm: new InstantLLM(),
    tts: new InstantTTS(frames),
    // No AEC warm-up: the barge-in figure is the interruption path itself, from the first speech on (with the 3 s
    // default the first speech cannot be interrupted by audio at all).
    turnHandling: { endpointing: { minDelay: 0, maxDelay: 0 }, interruption: { minDuration: 0 }, aecWarmupDuration: 0 },
    userAwayTimeout: null,
  });
  const output = new FakeAudioOutput();
  session.output.audio = output;
  session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 });
  return { session, vad, stt, output };
}

async function turnLatency(turns: number, warmup: number) {
  const samples = await measureTurns(new InstantLLM(), warmup + turns);
  // A server runs this path hot: report the first turns (cold JIT) and the turns after `warmup` separately.
  return { unit: 'ms', cold: summary(samples.slice(0, turns)), warm: summary(samples.slice(warmup)) };
}

export async function bargeIn(n: number) {
  const { session, vad, output } = makeSession(500); // 10 s replies
  await session.start({ agent: new Agent({ instructions: 'bench' }) });
  const samples: number[] = [];
  let cleared: (() => void) | null = null;
  const clear = output.clearBuffer.bind(output);
  output.clearBuffer = () => {
    cleared?.();
    clear();
  };
  for (let i = 0; i < n + 5; i++) {
    const h = session.say('A long answer that the user will cut short.');
    while (session.agentState !== 'speaking') await sleep(2);
    await sleep(10);
    vad.events.next(vadEvent('start_of_speech'));
    const got = new Promise<number>((r) => (cleared = () => r(performance.now())));
    const t0 = performance.now();
    vad.events.next(vadEvent('inference_done', { speechDuration: 100 }));
    const t1 = await got;
    cleared = null;
    if (i >= 5) samples.push(t1 - t0);
    await h.waitForPlayout();
    vad.events.next(vadEvent('end_of_speech'));
    await sleep(5);
  }
  await session.close();
  return { unit: 'ms', ...summary(samples) };
}

async function listening(n: number, seconds: number, idle?: { cpuMsPerSecond: number; heapBytesPerSecond: number }) {
  gc();
  gc();
  const base = process.memoryUsage().heapUsed;
  const all = Array.from({ length: n }, () => makeSession());
  for (const s of all) await s.session.start({ agent: new Agent({ instructions: 'bench' }) });
  await sleep(2000);
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const framesAtStart = all.reduce((a, s) => a + s.vad.frames, 0);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  gc();
  gc();
  const h1 = process.memoryUsage().heapUsed;
  const frames = all.reduce((a, s) => a + s.vad.frames, 0) - framesAtStart;
  for (const s of all) await s.session.close();
  const cpuMsPerSecond = (cpu.user + cpu.system) / 1000 / elapsed;
  const heapBytesPerSecond = (h1 - h0) / elapsed;
  if (n === 0) return { sessions: 0, seconds: round(elapsed, 1), cpuMsPerSecond: round(cpuMsPerSecond), heapBytesPerSecond: round(heapBytesPerSecond, 1) };
  return {
    sessions: n,
    seconds: round(elapsed, 1),
    heapPerSessionMB: round((h0 - base) / n / 2 ** 20),
    // gross: everything the process did, divided by N; net: minus an idle process over the same window
    heapGrowthPerSessionBytesPerSec: round(heapBytesPerSecond / n, 1),
    netHeapGrowthPerSessionBytesPerSec: idle ? round((heapBytesPerSecond - idle.heapBytesPerSecond) / n, 1) : undefined,
    cpuMsPerSessionSecond: round(cpuMsPerSecond / n),
    netCpuMsPerSessionSecond: idle ? round((cpuMsPerSecond - idle.cpuMsPerSecond) / n) : undefined,
    framesPerSessionSecond: round(frames / n / elapsed, 1),
  };
}

export async function turnOnly(n: number, w: number) { return turnLatency(n, w); }

export default async function () {
  if (!(globalThis as { gc?: unknown }).gc) process.stderr.write('bench: run with --expose-gc for heap figures (npm run bench does)\n');
  const seconds = Number(process.env.BENCH_LISTEN_SECONDS ?? 60);
  const turn = await turnLatency(100, 1000);
  // Counted in turns of their own: inspecting the actor system slows the turns it watches.
  const { byEvent: _, ...statecharts } = await countTurnEvents(100, 50);
  const barge = await bargeIn(50);
  const idle = (await listening(0, seconds)) as { cpuMsPerSecond: number; heapBytesPerSecond: number };
  const listen: unknown[] = [idle];
  for (const n of [1, 10, 100]) listen.push(await listening(n, seconds, idle));
  return {
    endOfTurnToFirstFrame: turn,
    endOfTurnStatechartWork: statecharts,
    bargeInToOutputCleared: barge,
    listening: listen,
    targets: { turnP50: 1, turnP95: 3, bargeIn: 0.5, heapPerSessionMB: 0.5, growthBytesPerSessionSecond: 1024, cpuMsPerSessionSecond: 3 },
  };
}
