/**
 * Worker bench against the real LiveKit server (LIVEKIT_URL): workers run as `voicechart start` processes with
 * bench/agents/listeningAgent.ts (Silero prewarmed; each job is a RoomIO session listening to the room's microphone).
 * - dispatch: user joins a new room (token room configuration) → agent joined and `lk.agent.state` = listening,
 *   p50/p95 over 20 jobs, warm pool (2 idle processes) and cold (0: spawn, import, prewarm at assignment);
 *   BENCH_ONLY_DISPATCH=1 for this part alone.
 * - memory: the idle worker's RSS, an idle (prewarmed) job process's RSS (through tsx, and built: with an smaps
 *   breakdown, just ready and settled), and RSS per running job with a process per job vs jobs sharing one process.
 * - capacity: CPU per job with real VAD on real-time audio (8 users: the Go simulator of bench/usersim, or rtc-node
 *   participants with VC_BENCH_ROOM_USERS=rtc-node), in both process models; jobs per
 *   2-core machine = 2 cores × 80 % / CPU per job.
 */
import './lib/productionLogs.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { AudioFrame as RtcFrame, AudioSource, dispose, LocalAudioTrack, ParticipantKind, Room, RoomEvent, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import { readWav } from '../src/audio/wav.ts';
import { builtIdleJobProcess, smapsBreakdown } from './lib/builtJobProcess.ts';
import { round, rssMb, sleep, summary } from './lib/stats.ts';
import { userToken } from '../test/worker/lk.ts';
import { until } from '../test/room/helpers/livekit.ts';
import { spawnUsers, stopUsers, userSimKind, usersReady } from './lib/userSim.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT = fileURLToPath(new URL('./agents/listeningAgent.ts', import.meta.url));
const URL_ = process.env.LIVEKIT_URL ?? '';
let seq = 0;
const uniq = (p: string) => `${p}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

interface WorkerProc {
  child: ChildProcess;
  name: string;
  logs: { msg: string }[];
  stop: () => Promise<void>;
}

async function startWorker(opts: { idle: number; jobsPerProcess: number; sharedInference?: boolean }): Promise<WorkerProc> {
  const name = uniq('bench');
  const flags = ['--num-idle-processes', String(opts.idle), '--log-format', 'json', ...(opts.sharedInference === false ? ['--no-shared-inference'] : [])];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', AGENT, ...flags], {
    cwd: ROOT,
    env: { ...process.env, BENCH_AGENT_NAME: name, BENCH_JOBS_PER_PROCESS: String(opts.jobsPerProcess) },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const logs: { msg: string }[] = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        /* rtc-node's own lines */
      }
    }
  });
  const until = async (pred: () => boolean, ms: number, what: string) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`bench: ${what} timed out`);
      await sleep(50);
    }
  };
  await until(() => logs.some((l) => l.msg === 'registered'), 30_000, 'worker registration');
  await until(() => logs.filter((l) => l.msg === 'job process ready').length >= opts.idle, 60_000, 'warm pool');
  return {
    child,
    name,
    logs,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      child.kill('SIGINT');
      // A worker that does not close in 20 s would hang the bench: count it and kill it.
      const t = setTimeout(() => {
        process.stderr.write('bench: worker did not close within 20 s, killed\n');
        child.kill('SIGKILL');
      }, 20_000);
      await exited;
      clearTimeout(t);
    },
  };
}

const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, clock ticks of 10 ms
};
function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const c = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (c) out.push(...c.split(' ').map(Number));
  }
  return out;
}

// tsx's esbuild service is a child too: only job processes and the inference host (Silero for all of them) count.
const isJobProcess = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('jobProcessMain');
const isInferenceHost = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('inferenceHost');

async function joinUser(roomName: string, agentName: string): Promise<Room> {
  const r = new Room();
  await r.connect(URL_, await userToken(roomName, uniq('u'), [{ agentName }]), { autoSubscribe: false, dynacast: false });
  return r;
}

function listening(room: Room, timeoutMs = 30_000): Promise<void> {
  const ok = () => [...room.remoteParticipants.values()].some((p) => p.kind === ParticipantKind.AGENT && p.attributes['lk.agent.state'] === 'listening');
  return new Promise((resolve, reject) => {
    if (ok()) return resolve();
    const t = setTimeout(() => reject(new Error('agent not listening in time')), timeoutMs);
    const check = () => {
      if (!ok()) return;
      clearTimeout(t);
      room.off(RoomEvent.ParticipantAttributesChanged, check);
      room.off(RoomEvent.ParticipantConnected, check);
      resolve();
    };
    room.on(RoomEvent.ParticipantAttributesChanged, check);
    room.on(RoomEvent.ParticipantConnected, check);
  });
}

async function dispatch(idle: number, jobs: number) {
  const w = await startWorker({ idle, jobsPerProcess: 1 });
  const ms: number[] = [];
  try {
    for (let i = 0; i < jobs; i++) {
      const t0 = performance.now();
      const room = await joinUser(uniq('d'), w.name);
      await listening(room);
      ms.push(performance.now() - t0);
      await room.disconnect();
      // Let the pool start the replacement process before the next job, as it would between real calls.
      await sleep(idle ? 2500 : 300);
    }
  } finally {
    await w.stop();
  }
  return summary(ms);
}

/** Users that publish a looped speech recording in real time. */
async function speakingUsers(n: number, agentName: string) {
  const frames = await lastValueFrom(readWav(fileURLToPath(new URL('../test/fixtures/speech-16k.wav', import.meta.url)), { frameMs: 20 }).pipe(toArray()));
  const rooms: Room[] = [];
  const sources: AudioSource[] = [];
  for (let i = 0; i < n; i++) {
    const room = await joinUser(uniq('c'), agentName);
    const src = new AudioSource(16000, 1);
    await room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('mic', src), new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
    rooms.push(room);
    sources.push(src);
  }
  let k = 0;
  const timer = setInterval(() => {
    const f = frames[k++ % frames.length]!;
    for (const s of sources) void s.captureFrame(new RtcFrame(f.data, 16000, 1, f.samplesPerChannel)).catch(() => {});
  }, 20);
  const agentOf = (r: Room) => [...r.remoteParticipants.values()].find((p) => p.kind === ParticipantKind.AGENT);
  return {
    kind: 'rtc-node participants in the bench process, a looped recording (speech throughout) in 20 ms frames',
    listening: async (timeoutMs: number): Promise<void> => void (await Promise.all(rooms.map((r) => listening(r, timeoutMs)))),
    vadEvents: () => rooms.map((r) => Number(agentOf(r)?.attributes['bench.vadEvents'] ?? 0)),
    stop: async () => {
      clearInterval(timer);
      await Promise.all(rooms.map((r) => r.disconnect()));
    },
  };
}

type BenchUsers = Awaited<ReturnType<typeof speakingUsers>>;

/** The rooms bench's Go users (bench/usersim), each room's token dispatching the worker's agent. */
async function goUsers(n: number, agentName: string): Promise<BenchUsers> {
  const child = spawnUsers('go', uniq('c'), n, [], agentName);
  const states = new Array<string>(n).fill('');
  const vad = new Array<number>(n).fill(0);
  await usersReady(child, () => undefined, (i, key, value) => {
    if (key === 'lk.agent.state') states[i] = value;
    else if (key === 'bench.vadEvents') vad[i] = Number(value);
  });
  return {
    kind: 'one Go process (bench/usersim): a pre-encoded Opus utterance every ~5 s, DTX silence',
    listening: (timeoutMs: number) => until(() => states.every((s) => s === 'listening'), timeoutMs, 'every job listening'),
    vadEvents: () => vad,
    stop: () => stopUsers(child),
  };
}



async function loaded(jobsPerProcess: number, n: number, sharedInference = true) {
  const w = await startWorker({ idle: 0, jobsPerProcess, sharedInference });
  // Go users unless VC_BENCH_ROOM_USERS=rtc-node (or no Go): ~4 ms of the machine's CPU per user-second, not ~30.
  const users = userSimKind() === 'go' ? await goUsers(n, w.name) : await speakingUsers(n, w.name);
  try {
    await users.listening(60_000);
    await sleep(3000);
    // The host's CPU and memory are the jobs' too: it runs their VAD.
    const kids = children(w.child.pid!).filter((p) => isJobProcess(p) || isInferenceHost(p));
    const host = kids.find(isInferenceHost);
    const c0 = kids.map(cpuMs);
    const h0 = host ? cpuMs(host) : 0;
    const t0 = performance.now();
    await sleep(10_000);
    const hostCpu = host ? cpuMs(host) - h0 : 0;
    const cpu = kids.map(cpuMs).reduce((a, b) => a + b, 0) - c0.reduce((a, b) => a + b, 0);
    const seconds = (performance.now() - t0) / 1000;
    const rss = kids.map(rssMb);
    const own = kids.map((pid) => smapsBreakdown(pid));
    const vadEvents = users.vadEvents();
    const perJobCpu = cpu / seconds / n;
    return {
      jobs: n,
      sharedInference,
      processes: kids.length,
      inferenceHost: host ? { rssMb: round(rssMb(host), 1), pssMb: smapsBreakdown(host).pssMb, cpuMsPerSecond: round(hostCpu / seconds, 1) } : null,
      rssPerJobMb: round(rss.reduce((a, b) => a + b, 0) / n, 1),
      /** RSS counts node's and the libraries' code in every process; PSS shares it, USS leaves it out. */
      pssPerJobMb: round(own.reduce((a, b) => a + b.pssMb, 0) / n, 1),
      ussPerJobMb: round(own.reduce((a, b) => a + b.ussMb, 0) / n, 1),
      workerRssMb: round(rssMb(w.child.pid!), 1),
      cpuMsPerSecondPerJob: round(perJobCpu, 1),
      jobsPer2CoreMachine: Math.floor((2 * 1000 * 0.8) / perJobCpu),
      vadActiveInEveryJob: vadEvents.every((v) => v > 0),
      users: users.kind,
    };
  } finally {
    await users.stop();
    await w.stop();
  }
}

async function idleMemory() {
  const w = await startWorker({ idle: 1, jobsPerProcess: 1 });
  try {
    await sleep(3000);
    const atReady = await builtIdleJobProcess();
    const kids = children(w.child.pid!).filter(isJobProcess);
    return {
      idleWorkerRssMb: round(rssMb(w.child.pid!), 1),
      /** From the sources through tsx, as `voicechart start agent.ts` runs a TypeScript agent. */
      idleJobProcessRssMb: round(rssMb(kids[0]!), 1),
      /** From dist/ with a JavaScript agent, no tsx: the deployed package, 2 s after it reported ready. */
      idleJobProcessRssMbBuilt: atReady.rssMb,
      /**
       * Where that memory is (smaps: anonymous vs each library's resident code; PSS shares the libraries among
       * the processes mapping them), 2 s after ready and once V8's memory reducer has shrunk the heap of the
       * waiting process (it starts ~15–20 s after the last allocation burst).
       */
      idleJobProcessBuilt: { atReady, settled: await builtIdleJobProcess({ settleMs: 25_000 }) },
      /** The same with `sharedInference: false`: onnxruntime and the Silero session in the job process itself. */
      idleJobProcessBuiltOwnSilero: await builtIdleJobProcess({ settleMs: 25_000, sharedInference: false }),
      referenceIdleJobProcessRssMb: 140,
      targetMb: round(140 / 3, 1),
    };
  } finally {
    await w.stop();
  }
}

export default async function workerBench() {
  try {
    return await workerFigures();
  } finally {
    // The users' rooms leave rtc-node's FFI running, which keeps the bench process alive after it printed.
    await dispose();
  }
}

async function workerFigures() {
  if (process.env.BENCH_ONLY_MEMORY) return { memory: await idleMemory() };
  if (process.env.BENCH_ONLY_LOADED) {
    const perProcess = Number(process.env.BENCH_JOBS_PER_PROCESS_RUN ?? 1);
    return { realTimeVad: await loaded(perProcess, Number(process.env.BENCH_CONCURRENT_JOBS ?? 4), process.env.BENCH_SHARED_INFERENCE !== '0') };
  }
  if (!URL_) return { skipped: 'LIVEKIT_URL not set (bash scripts/livekit-server.sh up; eval "$(bash scripts/livekit-server.sh env)")' };
  const jobs = Number(process.env.BENCH_DISPATCH_JOBS ?? 20);
  const n = Number(process.env.BENCH_CONCURRENT_JOBS ?? 8);
  if (process.env.BENCH_ONLY_DISPATCH) return { dispatchToListeningMs: { warmPool: await dispatch(2, jobs), cold: await dispatch(0, jobs) } };
  return {
    dispatchToListeningMs: { warmPool: await dispatch(2, jobs), cold: await dispatch(0, jobs) },
    memory: await idleMemory(),
    realTimeVad: { processPerJob: await loaded(1, n), processPerJobOwnSilero: await loaded(1, n, false), sharedProcess: await loaded(n, n) },
  };
}
