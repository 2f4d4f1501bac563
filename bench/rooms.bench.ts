/**
 * RoomIO through the real LiveKit server (scripts/livekit-server.sh; skipped without LIVEKIT_URL), instant providers:
 * - latency: the user participant's end of speech → the first agent audio frame it receives, p50/p95 over 20+ turns,
 *   split into the framework's share (agent heard the end of speech → first reply frame handed to the track; this
 *   includes the VAD's silence wait and endpointing) and the server's (user → agent and agent → user transport).
 * - capacity: N rooms at once, each one user and one agent session with real Silero VAD in this process; a level
 *   passes while the VAD keeps up with real time (p95 lag < 200 ms), every room answered and the event loop stays
 *   responsive (p99 delay < 100 ms). Goal ≥ 50 rooms. The users are the Go simulator of bench/usersim (pre-encoded
 *   Opus, DTX silence as browsers send it; bench/lib/userSim.ts builds it), or rtc-node participants
 *   (VC_BENCH_ROOM_USERS=rtc-node, or without Go), in one child process on the same machine. Each level reports the
 *   CPU of the agent process (split into its JS main thread, the VAD thread and native threads), the users' process
 *   and the server per room-second (bench/lib/procCpu.ts), and the rooms the agent alone could serve on 2 cores.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dispose, type Room } from '@livekit/rtc-node';
import { Observable } from 'rxjs';
import { Agent } from '../src/agent.ts';
import { AudioFrame } from '../src/audio/frame.ts';
import { SileroVAD } from '../src/plugins/silero/index.ts';
import type { SynthesizedAudio, TTS } from '../src/providers/types.ts';
import { roomIOOf } from '../src/room/index.ts';
import { AgentSession } from '../src/session/agentSession.ts';
import { VadScriptedSTT } from '../test/room/helpers/agent.ts';
import { join, liveKitEnv, Microphone, recordAudioFrom, uniqueRoom, until, wavFrames } from '../test/room/helpers/livekit.ts';
import { InstantLLM } from './lib/instant.ts';
import { sourceModes } from './lib/sourceModes.ts';
import { spawnUsers, stopUsers, userSimKind, usersReady, type UserSimKind } from './lib/userSim.ts';
import { transportLevel } from './lib/roomTransport.ts';
import { liveKitServerPid, OtherCpu, OwnCpu, ownThreadIds } from './lib/procCpu.ts';
import { selfTimes, startProfile, stopProfile } from './lib/profiler.ts';
import { round, sleep, summary } from './lib/stats.ts';

/** Instant TTS with audible output (a 440 Hz tone, 600 ms), so the first received frame can be told from silence. */
class ToneTTS implements TTS {
  readonly label = 'tone-tts';
  readonly sampleRate = 24000;
  readonly numChannels = 1;
  readonly capabilities = { streaming: false, alignedTranscript: false };
  synthesize(): Observable<SynthesizedAudio> {
    return new Observable((sub) => {
      for (let i = 0; i < 30; i++) {
        const d = new Int16Array(480);
        for (let k = 0; k < 480; k++) d[k] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * (i * 480 + k)) / 24000));
        sub.next({ frame: new AudioFrame(d, 24000, 1, 480), final: i === 29 });
      }
      sub.complete();
    });
  }
}

/**
 * The VAD's delay behind real time for one window: wall time since the stream's first frame minus the window's
 * audio position. Its growth over the measured window (each value minus the stream's smallest) is the lag.
 */
const windowDelay = (onDelay: (ms: number) => void) => (ev: { type: string; timestamp: number }, since: number) => {
  if (ev.type === 'inference_done') onDelay(since - ev.timestamp);
};

function agentSession(vad: SileroVAD, onVad?: (delay: number) => void) {
  return new AgentSession({
    vad: null,
    stt: new VadScriptedSTT(vad, ['hello'], onVad ? windowDelay(onVad) : undefined),
    llm: new InstantLLM(),
    tts: new ToneTTS(),
    turnHandling: { turnDetection: 'stt' },
    userAwayTimeout: null,
  });
}

async function latency(vad: SileroVAD, turns: number) {
  const env = liveKitEnv()!;
  const name = uniqueRoom('bench-latency');
  const agentRoom = await join(env, name, 'agent-1', { kind: 'agent' });
  const userRoom = await join(env, name, 'user-1');
  const session = agentSession(vad);
  const heardEnd: number[] = [];
  const vadEnd: number[] = [];
  const firstOut: number[] = [];
  // Where the agent heard the user's last loud frame, and handed its first reply frame to the track.
  let lastLoud = 0;
  await session.start({ agent: new Agent({ instructions: '' }), room: agentRoom, roomInputOptions: { deleteRoomOnClose: false } });
  const io = roomIOOf(session)!;
  io.audioInput!.subscribe((f) => {
    let s = 0;
    for (const x of f.data) s += Math.abs(x);
    if (s / f.data.length > 300) lastLoud = Date.now();
  });
  session.on('user_state_changed', (e) => {
    if (e.newState !== 'listening') return;
    heardEnd.push(lastLoud);
    vadEnd.push(Date.now());
  });
  (io.audioOutput as { events$: Observable<{ type: string }> }).events$.subscribe((e) => e.type === 'playback_started' && firstOut.push(Date.now()));
  const heard = recordAudioFrom(userRoom, 'agent-1');
  const mic = await Microphone.publish(userRoom);
  const speech = await wavFrames(new URL('../test/fixtures/utterance-a-16k.wav', import.meta.url).pathname);
  // The last loud 10 ms frame of the utterance: the user's real end of speech.
  let lastLoudFrame = 0;
  speech.forEach((f, i) => {
    let s = 0;
    for (const x of f.data) s += Math.abs(x);
    if (s / f.data.length > 300) lastLoudFrame = i;
  });
  const e2e: number[] = [];
  const framework: number[] = [];
  const vadSilence: number[] = [];
  const afterVad: number[] = [];
  const server: number[] = [];
  for (let t = 0; t < turns; t++) {
    const before = heard.frames.length;
    const outBefore = firstOut.length;
    let userEnd = 0;
    await mic.say(speech.slice(0, lastLoudFrame + 1));
    userEnd = Date.now() + 100; // the frame left the source's 100 ms queue
    await mic.say(speech.slice(lastLoudFrame + 1));
    await until(() => heard.frames.slice(before).some((f) => f.level > 500 && f.at > userEnd), 10_000, 'the reply');
    const firstHeard = heard.frames.slice(before).find((f) => f.level > 500 && f.at > userEnd)!.at;
    const out = firstOut[outBefore]!;
    const end = heardEnd.at(-1)!;
    e2e.push(firstHeard - userEnd);
    framework.push(out - end);
    vadSilence.push(vadEnd.at(-1)! - end);
    afterVad.push(out - vadEnd.at(-1)!);
    server.push(end - userEnd + (firstHeard - out));
    await until(() => session.agentState === 'listening', 5000, 'the reply to end');
    await sleep(800);
  }
  await session.close();
  await mic.stop();
  heard.stop();
  await userRoom.disconnect();
  await agentRoom.disconnect();
  return {
    turns,
    endpointing: 'stt turn detection on Silero end of speech, minDelay 500 ms',
    e2eMs: summary(e2e),
    frameworkMs: summary(framework),
    /** Of the framework's share: the VAD's silence wait before it calls the end of speech... */
    vadEndOfSpeechMs: summary(vadSilence),
    /** ...then endpointing (minDelay) and the pipeline (LLM → TTS → the track). */
    endpointingAndPipelineMs: summary(afterVad),
    serverMs: summary(server),
  };
}

const CAPACITY_INPUT_RATE = 16000;

/** How the users of each kind behave (they share the machine with the agent and the server). */
const USERS_GO = 'one Go process (bench/usersim): pre-encoded Opus utterance, DTX silence, stays subscribed to the agent';
const USERS_RTC_NODE = 'one rtc-node process (bench/lib/roomUsers.ts): 100 ms frames, unsubscribes after the first reply';

/** The machine's cores in ms of CPU per second: what the agent alone could use. */
const MACHINE_MS_PER_SECOND = 2000;

const perRoomSecond = (ms: number | undefined, n: number, seconds: number) => (ms === undefined ? undefined : round(ms / n / seconds, 1));

async function capacityLevel(vad: SileroVAD, vadThreads: Set<number>, users: UserSimKind, n: number, seconds: number) {
  const env = liveKitEnv()!;
  const prefix = uniqueRoom(`bench-cap${n}`);
  const rooms: Room[] = [];
  const sessions: AgentSession[] = [];
  const delays: number[][] = Array.from({ length: n }, () => []);
  const replies = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const room = await join(env, `${prefix}-${i}`, `agent-${i}`, { kind: 'agent' });
    const s = agentSession(vad, (d) => delays[i]!.push(d));
    s.on('agent_state_changed', (e) => e.newState === 'speaking' && replies[i]!++);
    // 16 kHz in: what the VAD (and most STTs) take, resampled by the native side instead of on the event loop.
    await s.start({ agent: new Agent({ instructions: '' }), room, roomInputOptions: { deleteRoomOnClose: false, audioSampleRate: CAPACITY_INPUT_RATE } });
    rooms.push(room);
    sessions.push(s);
  }
  // VC_BENCH_ROOM_CHILD_PROFILE=<dir>: a CPU profile of the rtc-node users' process too (written when it exits).
  const childProf = process.env.VC_BENCH_ROOM_CHILD_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VC_BENCH_ROOM_CHILD_PROFILE}`] : [];
  const child = spawnUsers(users, prefix, n, childProf);
  // "heard <i>": user i heard a reply (the rtc-node users unsubscribe after the first, see roomUsers.ts).
  const heard = new Set<number>();
  await usersReady(child, (i) => heard.add(i));
  await sleep(3000); // warm-up: subscriptions settle, first utterances start
  for (const d of delays) d.length = 0;
  replies.fill(0);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const profiling = process.env.VC_BENCH_ROOM_PROFILE === String(n);
  if (profiling) await startProfile(500);
  const ffiCounts = new Map<string, number>();
  const countFfi = (ev: { message: { case?: string; value?: { message?: { case?: string } } } }) => {
    const k = `${ev.message.case}/${ev.message.value?.message?.case ?? ''}`;
    ffiCounts.set(k, (ffiCounts.get(k) ?? 0) + 1);
  };
  const ffi = (globalThis as { _ffiClientInstance?: { on(e: string, f: typeof countFfi): void; off(e: string, f: typeof countFfi): void } })._ffiClientInstance;
  if (profiling) ffi?.on('ffi_event', countFfi);
  const c0 = process.cpuUsage();
  const own = OwnCpu.start({ vadThread: vadThreads });
  const usersCpu = OtherCpu.start(child.pid);
  const server = OtherCpu.start(liveKitServerPid());
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(c0);
  const agentCpu = own.stop();
  const usersMs = usersCpu?.stop();
  const serverMs = server?.stop();
  // VC_BENCH_ROOM_PROFILE=<n>: where the process's time goes at that level (self time per function and file).
  if (profiling) ffi?.off('ffi_event', countFfi);
  if (profiling) process.stderr.write(`ffi events per second: ${JSON.stringify([...ffiCounts].map(([k, v]) => [k, Math.round(v / seconds)]))}\n`);
  if (profiling) {
    const profile = await stopProfile();
    if (process.env.VC_BENCH_ROOM_PROFILE_FILE) writeFileSync(process.env.VC_BENCH_ROOM_PROFILE_FILE, JSON.stringify(profile));
    process.stderr.write(`${JSON.stringify(selfTimes(profile, 40), null, 1)}\n`);
  }
  loop.disable();
  await stopUsers(child);
  for (const s of sessions) await s.close();
  for (const r of rooms) await r.disconnect();
  const lags = delays.flatMap((d) => {
    const best = Math.min(...d);
    return d.map((x) => x - best);
  });
  const lag = summary(lags);
  const answered = replies.filter((r) => r > 0).length;
  const loopP99 = round(loop.percentile(99) / 1e6, 1);
  return {
    rooms: n,
    vadLagMs: lag,
    roomsAnswered: answered,
    eventLoopDelayP99Ms: loopP99,
    roomsHeardByUsers: heard.size,
    cpuPercent: round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100, 1),
    /**
     * ms of CPU per room and second of the measured span: the agent process (its JS main thread, the VAD's
     * inference thread, the rest: the native client's threads, libuv, GC), the users' process and the server.
     */
    cpuMsPerRoomSecond: {
      agent: perRoomSecond(agentCpu.total, n, seconds),
      agentJsMain: perRoomSecond(agentCpu.jsMain, n, seconds),
      agentVadThread: perRoomSecond(agentCpu.vadThread, n, seconds),
      agentNative: perRoomSecond(agentCpu.native, n, seconds),
      users: perRoomSecond(usersMs, n, seconds),
      server: perRoomSecond(serverMs, n, seconds),
    },
    /** Rooms the agent process alone could serve on the machine's 2 cores, were users and server elsewhere. */
    agentOnlyProjectedRooms: Math.floor(MACHINE_MS_PER_SECOND / (agentCpu.total / n / seconds)),
    realTime: lag.p95 < 200 && answered === n && loopP99 < 100,
  };
}

export default async function rooms() {
  if (!liveKitEnv()) return { skipped: 'LIVEKIT_URL is unset (scripts/livekit-server.sh up; eval "$(scripts/livekit-server.sh env)")' };
  // The capacity setting: inference on a thread of its own, so the event loop keeps every room's audio moving.
  // The threads that appear while the VAD loads are its inference thread (the native client starts with the first room).
  const before = ownThreadIds();
  // VC_BENCH_ROOM_VAD_BATCH_MS: how long a frame's windows wait for other rooms' (one thread round-trip for many).
  const batchDelayMs = Number(process.env.VC_BENCH_ROOM_VAD_BATCH_MS ?? 10);
  const vad = await SileroVAD.load({ thread: (process.env.VC_BENCH_ROOM_VAD_THREAD as 'main' | 'worker' | undefined) ?? 'worker', batchDelayMs });
  const vadThreads = new Set([...ownThreadIds()].filter((t) => !before.has(t)));
  // VC_BENCH_ROOM_TURNS=0: capacity only.
  const turns = Number(process.env.VC_BENCH_ROOM_TURNS ?? 20);
  const lat = turns > 0 ? await latency(vad, turns) : { skipped: 'VC_BENCH_ROOM_TURNS=0' };
  // VC_BENCH_ROOM_USERS=rtc-node: the users as rtc-node participants (the default needs Go: bench/usersim).
  const users = userSimKind();
  const levels = [];
  let best = 0;
  for (const n of (process.env.VC_BENCH_ROOM_LEVELS ?? '10,25,35,50').split(',').map(Number).filter((x) => x > 0)) {
    process.stderr.write(`bench: rooms capacity at ${n}...\n`);
    const r = await capacityLevel(vad, vadThreads, users, n, Number(process.env.VC_BENCH_ROOM_SECONDS ?? 15));
    levels.push(r);
    if (!r.realTime) break;
    best = n;
  }
  // VC_BENCH_ROOM_TRANSPORT=<levels>: rtc-node's share alone at those levels (bench/lib/roomTransport.ts).
  const transport = [];
  for (const n of (process.env.VC_BENCH_ROOM_TRANSPORT ?? '').split(',').map(Number).filter((x) => x > 0)) {
    process.stderr.write(`bench: rooms transport only at ${n}...\n`);
    transport.push(await transportLevel(users, n, Number(process.env.VC_BENCH_ROOM_SECONDS ?? 15)));
  }
  // VC_BENCH_ROOM_SOURCE_MODES=1: the AudioSource's queued and unqueued modes (bench/lib/sourceModes.ts).
  const modes = process.env.VC_BENCH_ROOM_SOURCE_MODES === '1' ? await sourceModes() : undefined;
  await dispose();
  return { latency: lat, audioSourceModes: modes, transportOnly: transport.length ? transport : undefined, capacity: { levels, maxRealTimeRooms: best, goal: 50, setup: { vadThread: 'worker', vadBatchDelayMs: batchDelayMs, inputSampleRate: CAPACITY_INPUT_RATE, users: users === 'go' ? USERS_GO : USERS_RTC_NODE } } };
}
