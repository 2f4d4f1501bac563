/**
 * A/B of the warm and cold turn latency between checkouts (say, main and a worktree of an older commit): runs
 * alternate, each in a fresh process inside its checkout, so both see the same machine noise. Each run measures
 * the core bench's path (bench/lib/turns.ts: final transcript → first frame) over `turns` turns and reports p50
 * and the tails of the last 1,000, and the p50 of the first 100 (cold). Prints per-run lines on stderr and, on
 * stdout, the median of each figure per checkout.
 *   node --import tsx bench/lib/abTurns.ts <dir A> <dir B> [rounds=5] [turns=1300]
 * A checkout needs its own node_modules (a symlink to this one's will do). On a noisy 2-core machine the run-to-run
 * spread of p50 is about ±10 %: quote medians of several rounds, never one run.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { percentile, round } from './stats.ts';

const FIGURES = ['p50', 'p90', 'p95', 'p99', 'coldP50'] as const;
type Run = Record<(typeof FIGURES)[number], number>;

/** In the child: the figures of one run, as one JSON line. */
async function child(turns: number): Promise<void> {
  const { measureTurns } = (await import(resolve(process.cwd(), 'bench/lib/turns.ts'))) as typeof import('./turns.ts');
  const { InstantLLM } = (await import(resolve(process.cwd(), 'bench/lib/instant.ts'))) as typeof import('./instant.ts');
  const xs = await measureTurns(new InstantLLM(), turns);
  const warm = xs.slice(-1000);
  const run: Run = {
    p50: percentile(warm, 50),
    p90: percentile(warm, 90),
    p95: percentile(warm, 95),
    p99: percentile(warm, 99),
    coldP50: percentile(xs.slice(0, 100), 50),
  };
  console.log(JSON.stringify(run));
  process.exit(0);
}

function main(dirs: string[], rounds: number, turns: number): void {
  const runs = new Map<string, Run[]>(dirs.map((d) => [d, []]));
  for (let r = 0; r < rounds; r++) {
    for (const dir of dirs) {
      const p = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', resolve(import.meta.dirname, 'abTurns.ts'), '--child', String(turns)], {
        cwd: dir,
        encoding: 'utf8',
      });
      const line = p.stdout.trim().split('\n').at(-1) ?? '';
      if (p.status !== 0 || !line.startsWith('{')) throw new Error(`run in ${dir} failed (exit ${p.status}): ${p.stderr.slice(-2000)}`);
      const run = JSON.parse(line) as Run;
      runs.get(dir)!.push(run);
      process.stderr.write(`${dir}: ${FIGURES.map((f) => `${f} ${round(run[f])}`).join(' ')}\n`);
    }
  }
  const out = Object.fromEntries(
    [...runs].map(([dir, rs]) => [dir, Object.fromEntries(FIGURES.map((f) => [f, round(percentile(rs.map((x) => x[f]), 50))]))]),
  );
  console.log(JSON.stringify({ unit: 'ms', rounds, turns, medians: out }, null, 1));
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(Number(args[1] ?? 1300));
else {
  const [a, b, rounds = '5', turns = '1300'] = args;
  if (!a || !b) {
    console.error('usage: node --import tsx bench/lib/abTurns.ts <dir A> <dir B> [rounds=5] [turns=1300]');
    process.exit(2);
  }
  main([resolve(a), resolve(b)], Number(rounds), Number(turns));
}
