/** `voicechart start` and `voicechart dev`'s worker: a worker for an agent file, drained on signals. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AgentWorker } from '../worker/worker.ts';
import { jsonLogger, prettyLogger, type Logger } from '../worker/log.ts';
import type { WorkerArgs } from './args.ts';

export class CliError extends Error {}

export function agentPath(file: string): string {
  const path = resolve(file);
  if (!existsSync(path)) throw new CliError(`agent file not found: ${file}`);
  return path;
}

export function loggerFor(args: Pick<WorkerArgs, 'logFormat' | 'logLevel'>): Logger {
  return args.logFormat === 'json' ? jsonLogger(undefined, args.logLevel) : prettyLogger(undefined, args.logLevel);
}

export async function loadWorker(args: WorkerArgs, log: Logger): Promise<AgentWorker> {
  const agent = agentPath(args.agentFile);
  try {
    return await AgentWorker.fromAgentFile({
      agent,
      dev: args.devChild || args.command === 'dev',
      url: args.url,
      apiKey: args.apiKey,
      apiSecret: args.apiSecret,
      agentName: args.agentName,
      drainTimeout: args.drainTimeout,
      numIdleProcesses: args.numIdleProcesses,
      httpPort: args.httpPort,
      httpHost: args.httpHost,
      sharedInference: args.sharedInference,
      logger: log,
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/**
 * Production worker. The first SIGTERM/SIGINT drains (FULL, no new jobs, running jobs finish, bounded by
 * --drain-timeout); a second one closes at once (jobs are asked to shut down). Exit 0 after a clean close.
 */
export async function runStart(args: WorkerArgs): Promise<number> {
  const log = loggerFor(args);
  const worker = await loadWorker(args, log);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1 && !args.devChild) {
      log('info', `${sig}: draining (again to stop now)`, { jobs: worker.activeJobs });
      void worker.drain();
    } else {
      log('info', `${sig}: closing now`, { jobs: worker.activeJobs });
      void worker.close();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let failed = false;
  worker.on('disconnected', (d) => {
    if (d.retry > worker.options.maxRetry) failed = true;
  });
  await worker.start();
  return failed ? 1 : 0;
}
