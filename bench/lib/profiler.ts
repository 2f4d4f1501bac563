/**
 * In-process CPU profiling of one window (node:inspector), and a summary of the profile: self time per function,
 * the framework's own code (src/, actors/, machines/) listed apart from dependencies and the runtime. Used to find
 * where a latency goes: `startProfile()` just before the measured event, `stopProfile()` right after it.
 */
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

let session: Session | null = null;

export async function startProfile(intervalUs = 50): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
}

export async function stopProfile(): Promise<CpuProfile> {
  const { profile } = (await session!.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  session!.disconnect();
  session = null;
  return profile;
}

const where = (url: string): string => {
  const m = /\/(src|actors|machines|bench)\/(.*)$/.exec(url);
  if (m && !url.includes('node_modules')) return `${m[1]}/${m[2]}`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  return url ? url.replace(/^.*\//, '') : '(runtime)';
};

/** The profiler's clock (µs, CLOCK_MONOTONIC, as V8 stamps samples): for marking windows in `selfTimes`. */
export const profilerNowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time per function (ms), highest first; `own` marks the framework's code. With `windows` ([start, end] in
 * `profilerNowUs()` units), only samples inside a window count: the measured path, not the idle time around it.
 */
export function selfTimes(p: CpuProfile, top = 25, windows?: Array<[number, number]>) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  let w = 0;
  let inWindows = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const dt = p.timeDeltas[i + 1] ?? 0; // a sample's weight is the time until the next one
    if (windows) {
      while (w < windows.length && windows[w]![1] < t) w++;
      if (w >= windows.length || windows[w]![0] > t) continue;
      inWindows += dt;
    }
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const agg = new Map<string, { fn: string; at: string; own: boolean; ms: number }>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const at = where(n.callFrame.url);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${at}:${n.callFrame.lineNumber + 1}`;
    const e = agg.get(key) ?? { fn: n.callFrame.functionName || '(anonymous)', at: `${at}:${n.callFrame.lineNumber + 1}`, own: /^(src|actors|machines)\//.test(at), ms: 0 };
    e.ms += us / 1000;
    agg.set(key, e);
  }
  const all = [...agg.values()].sort((a, b) => b.ms - a.ms);
  const total = (windows ? inWindows : p.endTime - p.startTime) / 1000;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const byArea = new Map<string, number>();
  for (const e of all) {
    const area = e.at.replace(/:\d+$/, '');
    byArea.set(area, (byArea.get(area) ?? 0) + e.ms);
  }
  return {
    totalMs: r(total),
    top: all.slice(0, top).map((e) => ({ ...e, ms: r(e.ms) })),
    ownTop: all.filter((e) => e.own).slice(0, top).map((e) => ({ ...e, ms: r(e.ms) })),
    byFile: [...byArea.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([file, ms]) => ({ file, ms: r(ms) })),
  };
}
