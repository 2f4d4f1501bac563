/**
 * The worker's shared inference: one host process (inferenceHost machine, inferenceHostProcess actor) that runs
 * Silero for every job process of the worker, listening on a Unix socket in a directory only this worker uses.
 * Job processes find it through INFERENCE_SOCKET_ENV; `SileroVAD.load()` there then loads no onnxruntime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor, type Actor } from 'xstate';
import { inferenceHostProcess } from '../../actors/inferenceHostProcess.ts';
import { inferenceHostMachine } from '../../machines/inferenceHost.ts';
import { INFERENCE_SOCKET_ENV } from '../plugins/silero/sharedModel.ts';
import type { Logger } from './log.ts';

export interface SharedInferenceOptions {
  /** The host process's environment (default process.env, with the job processes' runtime tuning). */
  env?: NodeJS.ProcessEnv;
  /** A host that answers no ping for this long is killed and restarted (default 5 s). */
  answerTimeoutMs?: number;
}

export class SharedInference {
  readonly socketPath: string;
  private readonly dir: string;
  private readonly actor: Actor<typeof inferenceHostMachine>;

  constructor(log: Logger, opts: SharedInferenceOptions = {}) {
    // A socket path must fit in sun_path (108 bytes): a short directory under the temporary one.
    this.dir = mkdtempSync(join(tmpdir(), 'vc-'));
    this.socketPath = join(this.dir, 'inference.sock');
    this.actor = createActor(
      inferenceHostMachine.provide({
        actors: { host: inferenceHostProcess({ socketPath: this.socketPath, env: opts.env ?? process.env }) },
        ...(opts.answerTimeoutMs ? { delays: { answerTimeout: opts.answerTimeoutMs } } : {}),
        actions: {
          announceListening: (_, { pid, restarts }) => log(restarts ? 'warn' : 'info', restarts ? 'inference host restarted' : 'inference host listening', { pid, socket: this.socketPath }),
          announceDown: (_, { why, restarts, delayMs }) => log('error', `inference host ${why}; restarting in ${delayMs} ms`, { restarts }),
        },
      }),
    );
    this.actor.start();
  }

  /** The host's pid while it runs (benchmarks count its CPU and memory with the job processes'). */
  get pid(): number | null {
    return this.actor.getSnapshot().context.pid;
  }

  /** What job processes need in their environment to use the host. */
  env(): Record<string, string> {
    return { [INFERENCE_SOCKET_ENV]: this.socketPath };
  }

  close(): void {
    this.actor.send({ type: 'stop' });
    this.actor.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
