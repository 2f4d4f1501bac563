/**
 * CPU time of processes and of their threads from /proc (Linux), for benches that share the machine between the
 * agent, its simulated users and the LiveKit server: `process.cpuUsage()` sees only this process, and not which
 * part of it (JS main thread, an inference thread, the native client's threads) the time went to.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a /proc stat line, in ms (the command name may hold spaces and parentheses: fields follow the last ')'). */
function statMs(path: string): number | undefined {
  try {
    const line = readFileSync(path, 'utf8');
    const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12 here.
    return ((Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND) * 1000;
  } catch {
    return undefined;
  }
}

/** ms of CPU a whole process used so far (all its threads, live and exited); undefined when it is gone. */
export const processCpuMs = (pid: number): number | undefined => statMs(`/proc/${pid}/stat`);

/** ms of CPU per live thread of a process, by thread id. */
export function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const ms = statMs(`/proc/${pid}/task/${t}/stat`);
    if (ms !== undefined) out.set(Number(t), ms);
  }
  return out;
}

/** Thread ids of this process: taken before and after starting a worker thread, their difference is that thread. */
export const ownThreadIds = (): Set<number> => new Set(threadCpuMs(process.pid).keys());

/**
 * This process's CPU split: the JS main thread (its thread id is the pid), the named threads (e.g. the VAD's
 * inference thread) and everything else ("native": the LiveKit client's Rust and libwebrtc threads, libuv, GC).
 */
export class OwnCpu {
  private constructor(
    private readonly named: Record<string, Set<number>>,
    private readonly total0: number,
    private readonly threads0: Map<number, number>,
  ) {}

  static start(named: Record<string, Set<number>> = {}): OwnCpu {
    return new OwnCpu(named, processCpuMs(process.pid) ?? 0, threadCpuMs(process.pid));
  }

  /** ms used since start, per part; threads that exited in between count in `total` (and so in `native`). */
  stop(): Record<string, number> & { total: number; jsMain: number; native: number } {
    const total = (processCpuMs(process.pid) ?? 0) - this.total0;
    const now = threadCpuMs(process.pid);
    const used = (tid: number) => (now.get(tid) ?? 0) - (this.threads0.get(tid) ?? 0);
    const jsMain = used(process.pid);
    const parts: Record<string, number> = {};
    let namedSum = 0;
    for (const [name, tids] of Object.entries(this.named)) {
      parts[name] = [...tids].reduce((s, t) => s + used(t), 0);
      namedSum += parts[name]!;
    }
    return { total, jsMain, ...parts, native: Math.max(0, total - jsMain - namedSum) };
  }
}

/** The CPU another process (by pid) uses over a span. */
export class OtherCpu {
  private constructor(
    private readonly pid: number,
    private readonly start0: number,
  ) {}

  static start(pid: number | undefined): OtherCpu | undefined {
    const ms = pid === undefined ? undefined : processCpuMs(pid);
    return ms === undefined ? undefined : new OtherCpu(pid!, ms);
  }

  stop(): number | undefined {
    const ms = processCpuMs(this.pid);
    return ms === undefined ? undefined : ms - this.start0;
  }
}

/**
 * The LiveKit server's pid, to see its share of the machine: `VC_BENCH_SERVER_PID`, else the pid file of
 * scripts/livekit-server.sh (the default namespace); undefined when neither names a live process.
 */
export function liveKitServerPid(): number | undefined {
  const fromEnv = Number(process.env.VC_BENCH_SERVER_PID);
  if (fromEnv > 0) return fromEnv;
  const ns = process.env.VC_LK_NS ?? 'voicechart-lk';
  try {
    const pid = Number(readFileSync(process.env.VC_LK_RUN ? `${process.env.VC_LK_RUN}/server.pid` : `/tmp/voicechart-lk-${ns}/server.pid`, 'utf8').trim());
    return processCpuMs(pid) === undefined ? undefined : pid;
  } catch {
    return undefined;
  }
}
