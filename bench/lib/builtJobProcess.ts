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
import type { FromJobProcess } from '../../src/worker/ipc.ts';
import { rssMb, round } from './stats.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface SmapsBreakdown {
  rssMb: number;
  /** Proportional set size: shared pages (node's code, libraries) divided among the processes mapping them. */
  pssMb: number;
  /** Unique set size: pages no other process maps, what one more such process costs the machine. */
  ussMb: number;
  /** Anonymous mappings (heap, malloc arenas, V8's spaces, thread stacks). */
  anonMb: number;
  /** File-backed mappings, per file (the largest; the rest summed as "other"). */
  filesMb: Record<string, number>;
}

/** Resident memory by mapping from /proc/<pid>/smaps: anonymous vs each file's pages. */
export function smapsBreakdown(pid: number, top = 8): SmapsBreakdown {
  const perFile = new Map<string, number>();
  let anonKb = 0;
  let pssKb = 0;
  let ussKb = 0;
  let current = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      current = head[1]!.trim();
      continue;
    }
    const pss = /^Pss:\s+(\d+) kB/.exec(line);
    if (pss) pssKb += Number(pss[1]);
    const priv = /^Private_(?:Clean|Dirty):\s+(\d+) kB/.exec(line);
    if (priv) ussKb += Number(priv[1]);
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
  return { rssMb: round(rssMb(pid), 1), pssMb: round(pssKb / 1024, 1), ussMb: round(ussKb / 1024, 1), anonMb: round(anonKb / 1024, 1), filesMb };
}

export interface BuiltIdleJobProcess extends SmapsBreakdown {
  /** V8's own account: heap used, heap committed, and memory held outside the heap by JS objects. */
  v8: { heapUsedMb: number; heapTotalMb: number; externalMb: number };
  /** With shared inference: the worker's inference host (one per worker, whatever the number of job processes). */
  inferenceHost: SmapsBreakdown | null;
}

/**
 * An idle (prewarmed) built job process, forked with `env` and `execArgv` (default: as the worker forks it). With
 * `sharedInference` (default true, as the worker runs) its Silero runs in a built inference host started for it.
 */
export async function builtIdleJobProcess(opts: { env?: NodeJS.ProcessEnv; execArgv?: string[]; settleMs?: number; sharedInference?: boolean } = {}): Promise<BuiltIdleJobProcess> {
  const main = `${ROOT}dist/src/worker/jobProcessMain.js`;
  if (!existsSync(main)) execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`], { cwd: ROOT, stdio: 'ignore' });
  const { jobProcessEnv, JOB_PROCESS_EXEC_ARGV } = (await import(`${ROOT}dist/src/worker/jobProcessRuntime.js`)) as typeof import('../../src/worker/jobProcessRuntime.ts');
  const { SharedInference } = (await import(`${ROOT}dist/src/worker/sharedInference.js`)) as typeof import('../../src/worker/sharedInference.ts');
  const host = opts.sharedInference === false ? null : new SharedInference(() => {});
  const child = fork(main, [`${ROOT}bench/agents/prewarmSilero.mjs`], {
    execArgv: opts.execArgv ?? [...JOB_PROCESS_EXEC_ARGV],
    env: { ...(opts.env ?? jobProcessEnv(process.env)), ...host?.env() },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'json',
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type: string; error?: string }) => (m.type === 'ready' ? resolve() : m.type === 'initFailed' && reject(new Error(m.error))));
      child.once('exit', (c) => reject(new Error(`job process exited (${c})`)));
    });
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 2000));
    const pong = await new Promise<Extract<FromJobProcess, { type: 'pong' }>>((resolve) => {
      child.on('message', (m: FromJobProcess) => m.type === 'pong' && resolve(m));
      child.send({ type: 'ping', t: 0 });
    });
    const v8 = { heapUsedMb: round(pong.heapUsedMb ?? 0, 1), heapTotalMb: round(pong.heapTotalMb ?? 0, 1), externalMb: round(pong.externalMb ?? 0, 1) };
    return { ...smapsBreakdown(child.pid!), v8, inferenceHost: host?.pid ? smapsBreakdown(host.pid) : null };
  } finally {
    child.kill('SIGKILL');
    host?.close();
  }
}
