/**
 * The RSS of an idle job process as a deployed package runs it: dist/ (compiled by `npm run build` when missing),
 * a JavaScript agent, no tsx. Forked like the worker forks it; measured once it reported ready (prewarm done).
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rssMb } from './stats.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function builtIdleJobProcessRssMb(): Promise<number> {
  const main = `${ROOT}dist/src/worker/jobProcessMain.js`;
  if (!existsSync(main)) execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`], { cwd: ROOT, stdio: 'ignore' });
  const child = fork(main, [`${ROOT}bench/agents/prewarmSilero.mjs`], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type: string; error?: string }) => (m.type === 'ready' ? resolve() : m.type === 'initFailed' && reject(new Error(m.error))));
      child.once('exit', (c) => reject(new Error(`job process exited (${c})`)));
    });
    await new Promise((r) => setTimeout(r, 2000));
    return rssMb(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}
