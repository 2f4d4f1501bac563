/**
 * Session churn: heap after 1,000 sequential sessions, each started, given one turn and closed, as a worker that
 * runs thousands of jobs would. Heap is sampled after a full GC every 100 sessions (needs --expose-gc, which
 * `npm run bench` passes); the slope is a least-squares fit over the samples after the warm-up (bytes per session).
 * Goal: flat after warm-up. `SESSION_CHURN_COUNT` changes the number of sessions (default 1000).
 */
import { oneSessionTurn } from './lib/churn.ts';
import { gc, round, sleep } from './lib/stats.ts';

const heap = async () => {
  await sleep(10); // let closed sessions' last callbacks run
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return num / den;
}

export default async function () {
  if (!(globalThis as { gc?: unknown }).gc) throw new Error('sessionChurn needs node --expose-gc (npm run bench passes it)');
  const count = Math.max(200, Number(process.env.SESSION_CHURN_COUNT ?? 1000));
  const every = 100;
  const warmup = 200;
  const before = await heap();
  const samples: Array<{ sessions: number; heapMB: number }> = [];
  const points: Array<[number, number]> = [];
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    await oneSessionTurn();
    if (i % every === 0) {
      const h = await heap();
      samples.push({ sessions: i, heapMB: round(h / 2 ** 20) });
      if (i >= warmup) points.push([i, h]);
    }
  }
  const after = samples.at(-1)!.heapMB * 2 ** 20;
  return {
    sessions: count,
    seconds: round((performance.now() - t0) / 1000, 1),
    heapBeforeMB: round(before / 2 ** 20),
    heapAfterMB: round(after / 2 ** 20),
    samples,
    slopeBytesPerSessionAfterWarmup: round(slope(points), 1),
    warmupSessions: warmup,
    targets: { slopeBytesPerSession: 0 },
  };
}
