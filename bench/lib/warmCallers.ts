/**
 * Which calls of the framework into XState cost a warm turn its time: a CPU profile of the core bench's turns
 * (end of turn → first frame windows only), each XState sample charged to the framework frame that called into
 * XState (inclusive: the machine's guards and actions it ran count too), highest first.
 *   node --import tsx bench/lib/warmCallers.ts [turns=1000] [warmup=500]
 */
import { InstantLLM } from './instant.ts';
import { profilerNowUs, startProfile, stopProfile, type CpuProfile } from './profiler.ts';
import { measureTurns } from './turns.ts';

const [turns = 1000, warmup = 500] = process.argv.slice(2).map(Number);

const isXState = (url: string) => url.includes('node_modules/xstate/');
const isOwn = (url: string) => /\/(src|actors|machines)\//.test(url) && !url.includes('node_modules');

function chargeXStateToCallers(p: CpuProfile & { nodes: Array<{ id: number; children?: number[]; callFrame: { functionName: string; url: string; lineNumber: number } }> }, windows: Array<[number, number]>) {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const charged = new Map<string, number>();
  let t = p.startTime;
  let w = 0;
  let xstateUs = 0;
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const dt = p.timeDeltas[i + 1] ?? 0;
    while (w < windows.length && windows[w]![1] < t) w++;
    if (w >= windows.length || windows[w]![0] > t) continue;
    totalUs += dt;
    // Walk from the leaf up: the outermost contiguous XState run's caller is the framework frame charged.
    let id: number | undefined = p.samples[i]!;
    let inXState = false;
    let caller: string | null = null;
    while (id !== undefined) {
      const n = byId.get(id)!;
      if (isXState(n.callFrame.url)) inXState = true;
      else if (inXState && isOwn(n.callFrame.url)) {
        caller = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|actors|machines)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
        // keep walking: a guard of machines/ runs inside XState, charge the outermost framework caller
        const up = parent.get(id);
        let anyXStateAbove = false;
        for (let u = up; u !== undefined; u = parent.get(u)) if (isXState(byId.get(u)!.callFrame.url)) anyXStateAbove = true;
        if (!anyXStateAbove) break;
        inXState = false;
      }
      id = parent.get(id);
    }
    if (caller) {
      xstateUs += dt;
      charged.set(caller, (charged.get(caller) ?? 0) + dt);
    }
  }
  const ms = (us: number) => Math.round(us / 10) / 100;
  return { windowsMs: ms(totalUs), xstateMs: ms(xstateUs), byCaller: [...charged.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([at, us]) => ({ at, ms: ms(us) })) };
}

const windows: Array<[number, number]> = [];
let t0 = 0;
let n = 0;
await startProfile(25);
await measureTurns(new InstantLLM(), warmup + turns, undefined, {
  beforeTurn: () => (t0 = profilerNowUs()),
  afterFirstFrame: () => {
    if (n++ >= warmup) windows.push([t0, profilerNowUs()]);
  },
});
const profile = await stopProfile();
console.log(JSON.stringify({ turns: windows.length, ...chargeXStateToCallers(profile as never, windows) }, null, 1));
process.exit(0);
