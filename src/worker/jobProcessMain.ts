import '../room/ffiClient.ts';
/**
 * A job process: `node --import tsx jobProcessMain.ts <agent file>`, forked by the worker. Imports the agent,
 * runs prewarm once, then runs the jobs the worker sends (one, or up to jobsPerProcess), answering pings with
 * its RSS. An uncaught error that belongs to a job (by its async context) ends that job alone; one that belongs
 * to none ends the process. The process exits when the worker goes away (no orphans).
 */
import { pathToFileURL } from 'node:url';
import { dispose } from '@livekit/rtc-node';
import { agentOf, type JobProcess } from './defineAgent.ts';
import type { FromJobProcess, ToJobProcess } from './ipc.ts';
import { getJobContext } from './jobContext.ts';
import { startJob, type JobHandle } from './jobRunner.ts';

const send = (m: FromJobProcess) => process.send?.(m);
const jobs = new Map<string, JobHandle>();

function crashed(kind: string, err: unknown): void {
  const text = `${kind}: ${(err as Error)?.stack ?? String(err)}`;
  const ctx = getJobContext();
  const handle = ctx && jobs.get(ctx.job.id);
  if (handle) {
    handle.end('job crashed', text);
    return;
  }
  console.error(`[job process ${process.pid}] ${text}`);
  process.exit(1);
}
process.on('uncaughtException', (e) => crashed('uncaught exception', e));
process.on('unhandledRejection', (e) => crashed('unhandled rejection', e));
process.on('disconnect', () => process.exit(0));
// The worker decides when a job ends; Ctrl+C in a terminal reaches the whole group, so the child waits for it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

async function main(agentFile: string): Promise<void> {
  const t0 = performance.now();
  const proc: JobProcess = { pid: process.pid, userdata: {} };
  let def;
  try {
    def = agentOf(await import(pathToFileURL(agentFile).href), agentFile);
    await def.prewarm?.(proc);
  } catch (e) {
    send({ type: 'initFailed', error: `${agentFile}: ${(e as Error)?.stack ?? e}` });
    process.exit(1);
  }
  try {
    // RoomIO's modules, which a job's first session.start({ room }) would otherwise load on the dispatch's critical
    // path: measured 212 ms for the first start through tsx, 12 ms once they are loaded (the load moves here, ~150 ms).
    await import('../room/attach.ts');
  } catch (e) {
    // Not the agent file's fault: the installed package is broken.
    send({ type: 'initFailed', error: `loading RoomIO: ${(e as Error)?.stack ?? e}` });
    process.exit(1);
  }
  send({ type: 'ready', pid: process.pid, prewarmMs: performance.now() - t0 });
  process.on('message', (m: ToJobProcess) => {
    if (m.type === 'ping') {
      const mem = process.memoryUsage();
      const mb = (bytes: number) => bytes / 1048576;
      return send({ type: 'pong', t: m.t, rssMb: mb(mem.rss), heapUsedMb: mb(mem.heapUsed), heapTotalMb: mb(mem.heapTotal), externalMb: mb(mem.external) });
    }
    if (m.type === 'shutdown') return jobs.get(m.jobId)?.end(m.reason);
    if (m.type === 'start') {
      const jobId = m.running.info.id;
      const handle = startJob(def, m.running, proc, () => send({ type: 'started', jobId }));
      jobs.set(jobId, handle);
      void handle.done.then(({ reason, error }) => {
        jobs.delete(jobId);
        send({ type: 'ended', jobId, reason, error });
      });
    }
  });
}

process.on('exit', () => {
  try {
    dispose();
  } catch {
    /* the FFI may already be gone */
  }
});

const file = process.argv[2];
if (!file) {
  console.error('jobProcessMain: the agent file is missing');
  process.exit(2);
}
void main(file);
