/**
 * `voicechart dev <agent file>`: a worker process (`start --dev-child`: dev defaults, readable logs) that is
 * restarted whenever the agent file changes. The directory is watched, not the file, because editors often
 * save by replacing the file; changes within 200 ms count as one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerArgs } from './args.ts';
import { agentPath, loggerFor } from './workerCommands.ts';

const MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));

export async function runDev(args: WorkerArgs, argv: string[]): Promise<number> {
  const log = loggerFor(args);
  const file = agentPath(args.agentFile);
  // The child gets the same options, as `start --dev-child`.
  const childArgs = ['start', ...argv.slice(1), '--dev-child'];
  let child: ChildProcess | null = null;
  let stopping = false;
  const launch = () => {
    child = spawn(process.execPath, [...(MAIN.endsWith('.ts') ? ['--import', 'tsx'] : []), MAIN, ...childArgs], { stdio: 'inherit' });
    const me = child;
    me.on('exit', (code, signal) => {
      if (child === me && !stopping) log(code === 0 ? 'info' : 'error', `worker exited (${signal ?? code}); waiting for the agent file to change`);
    });
  };
  const stop = (c: ChildProcess | null) =>
    new Promise<void>((resolve) => {
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 8_000).unref();
    });
  let timer: NodeJS.Timeout | null = null;
  const watcher = watch(dirname(file), (_event, name) => {
    if (name !== basename(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(async () => {
      log('info', `${basename(file)} changed: restarting the worker`);
      const old = child;
      child = null;
      await stop(old);
      if (!stopping) launch();
    }, 200);
  });
  log('info', `dev: watching ${file}`);
  launch();
  return new Promise<number>((resolve) => {
    const quit = async () => {
      if (stopping) return;
      stopping = true;
      watcher.close();
      await stop(child);
      resolve(0);
    };
    process.on('SIGINT', quit);
    process.on('SIGTERM', quit);
  });
}
