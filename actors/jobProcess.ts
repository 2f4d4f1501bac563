import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fromCallback } from 'xstate';
import type { FromJobProcess, ToJobProcess } from '../src/worker/ipc.ts';
import { JOB_PROCESS_EXEC_ARGV, jobProcessEnv } from '../src/worker/jobProcessRuntime.ts';

export type JobProcessEvent = FromJobProcess | { type: 'exited'; code: number | null; signal: string | null } | { type: 'spawnFailed'; error: string };

export interface JobProcessInput {
  agentFile: string;
  /** Everything the process says, and its exit. */
  onEvent: (e: JobProcessEvent) => void;
  /** Lines the child writes; default: inherited stdio. */
  stdio?: 'inherit' | 'pipe';
  env?: NodeJS.ProcessEnv;
}

export type JobProcessCommand = { type: 'send'; msg: ToJobProcess } | { type: 'kill' };

// Sources run through tsx; a built package (../dist) has the .js beside this file.
const MAIN = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../src/worker/jobProcessMain.ts' : '../src/worker/jobProcessMain.js', import.meta.url));

/**
 * A job process (jobProcessMain) forked over Node IPC. `send` forwards a message, `kill` ends it with SIGKILL
 * (a hung or runaway process gets no say); stopping the actor kills it too. Its environment carries the job
 * process runtime tuning (jobProcessRuntime.ts).
 */
export const jobProcess = fromCallback<JobProcessCommand, JobProcessInput>(({ input, receive }) => {
  const child = fork(MAIN, [input.agentFile], {
    execArgv: [...JOB_PROCESS_EXEC_ARGV, ...(MAIN.endsWith('.ts') ? ['--import', 'tsx'] : [])],
    stdio: input.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['inherit', 'inherit', 'inherit', 'ipc'],
    env: jobProcessEnv(input.env ?? process.env),
    serialization: 'json',
  });
  let exited = false;
  child.on('message', (m: FromJobProcess) => input.onEvent(m));
  child.on('error', (e) => input.onEvent({ type: 'spawnFailed', error: e.message }));
  child.on('exit', (code, signal) => {
    exited = true;
    input.onEvent({ type: 'exited', code, signal });
  });
  receive((cmd) => {
    if (exited) return;
    if (cmd.type === 'kill') child.kill('SIGKILL');
    else if (child.connected) child.send(cmd.msg);
  });
  return () => {
    if (!exited) child.kill('SIGKILL');
  };
});

export type { ToJobProcess };
