import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fromCallback } from 'xstate';
import type { InferenceHostEvent } from '../machines/inferenceHost.ts';
import { jobProcessEnv } from '../src/worker/jobProcessRuntime.ts';

// Plain JavaScript in the sources and in dist/ alike (the build copies it beside the Silero plugin).
const HOST = fileURLToPath(new URL('../src/plugins/silero/inferenceHost.mjs', import.meta.url));
const PING_EVERY_MS = 1000;

export interface InferenceHostProcessInput {
  socketPath: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The inference host (src/plugins/silero/inferenceHost.mjs) as a child process with an IPC channel: reports
 * `host.listening` once its socket accepts connections, `host.pong` for each ping it answers (one a second) and
 * `host.exited` when it ends. Stopping the actor ends the process (it holds nothing that could be lost: job
 * processes resend what was in flight). Its environment carries the job processes' runtime tuning (one arena per
 * thread is as wasteful there).
 */
export const inferenceHostProcess = (input: InferenceHostProcessInput) =>
  fromCallback<{ type: 'noop' }, unknown, InferenceHostEvent>(({ sendBack }) => {
    let stopped = false;
    let exited = false;
    const child = fork(HOST, [input.socketPath], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: jobProcessEnv(input.env ?? process.env),
      serialization: 'json',
    });
    child.on('message', (m: { type?: string; pid?: number }) => {
      if (stopped) return;
      if (m?.type === 'listening') sendBack({ type: 'host.listening', pid: m.pid ?? child.pid ?? 0 });
      else if (m?.type === 'pong') sendBack({ type: 'host.pong' });
    });
    // The machine decides when silence means a hang; this only asks. A full IPC pipe is a hang as well.
    const ping = setInterval(() => {
      if (child.connected) child.send({ type: 'ping' }, () => {});
    }, PING_EVERY_MS);
    ping.unref();
    const ended = (code: number | null, signal: string | null) => {
      clearInterval(ping);
      if (exited) return;
      exited = true;
      if (!stopped) sendBack({ type: 'host.exited', code, signal });
    };
    child.on('error', () => ended(null, null)); // could not be started (or signalled): the same as an exit here
    child.on('exit', ended);
    return () => {
      stopped = true;
      clearInterval(ping);
      if (!exited) child.kill('SIGKILL');
    };
  });
