/**
 * The RSS of an idle job process as a deployed package runs it: dist/ (compiled by `npm run build` when missing),
 * a JavaScript agent, no tsx. Forked like the worker forks it (same runtime env), measured once it reported ready
 * (prewarm done), with an smaps breakdown: which part is anonymous memory (V8 heap, malloc arenas, onnxruntime's
 * buffers) and which is file-backed (the code of node, onnxruntime, rtc-node's FFI library), so a change can be
 * aimed at the part that is large.
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssMb, round } from './stats.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SmapsBreakdown {
  rssMb: number;
  /** Anonymous mappings (heap, malloc arenas, V8's spaces, thread stacks). */
  anonMb: number;
  /** File-backed mappings, per file (the largest; the rest summed as "other"). */
  filesMb: Record<string, number>;
}

/** Resident memory by mapping from /proc/<pid>/smaps: anonymous vs each file's pages. */
export function smapsBreakdown(pid: number, top = 8): SmapsBreakdown {
  const perFile = new Map<string, number>();
  let anonKb = 0;
  let current = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      current = head[1]!.trim();
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const kb = Number(rss[1]);
    if (!current.startsWith('/') || current.endsWith('(deleted)')) anonKb += kb;
    else perFile.set(basename(current), (perFile.get(basename(current)) ?? 0) + kb);
  }
  const files = [...perFile].sort((a, b) => b[1] - a[1]);
  const filesMb: Record<string, number> = {};
  for (const [name, kb] of files.slice(0, top)) filesMb[name] = round(kb / 1024, 1);
  filesMb.other = round(files.slice(top).reduce((a, [, kb]) => a + kb, 0) / 1024, 1);
  return { rssMb: round(rssMb(pid), 1), anonMb: round(anonKb / 1024, 1), filesMb };
}

export interface BuiltIdleJobProcess extends SmapsBreakdown {
  /** V8's own account: heap used, and the rest of what it reserved. */
  v8HeapUsedMb: number;
}

/** An idle (prewarmed) built job process, forked with `env` (default: the worker's job process env). */
export async function builtIdleJobProcess(env?: NodeJS.ProcessEnv): Promise<BuiltIdleJobProcess> {
  const main = `${ROOT}dist/src/worker/jobProcessMain.js`;
  if (!existsSync(main)) execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`], { cwd: ROOT, stdio: 'ignore' });
  const { jobProcessEnv } = (await import(`${ROOT}dist/src/worker/jobProcessRuntime.js`)) as typeof import('../../src/worker/jobProcessRuntime.ts');
  const child = fork(main, [`${ROOT}bench/agents/prewarmSilero.mjs`], {
    execArgv: [],
    env: env ?? jobProcessEnv(process.env),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'json',
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type: string; error?: string }) => (m.type === 'ready' ? resolve() : m.type === 'initFailed' && reject(new Error(m.error))));
      child.once('exit', (c) => reject(new Error(`job process exited (${c})`)));
    });
    await new Promise((r) => setTimeout(r, 2000));
    const heap = await new Promise<number>((resolve) => {
      child.on('message', (m: { type: string; heapUsedMb?: number }) => m.type === 'pong' && resolve(m.heapUsedMb ?? 0));
      child.send({ type: 'ping', t: 0 });
    });
    return { ...smapsBreakdown(child.pid!), v8HeapUsedMb: round(heap, 1) };
  } finally {
    child.kill('SIGKILL');
  }
}

export async function builtIdleJobProcessRssMb(): Promise<number> {
  return (await builtIdleJobProcess()).rssMb;
}
