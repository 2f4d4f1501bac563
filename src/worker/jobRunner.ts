/**
 * One job inside a job process: builds the JobContext, runs `entry`, and on the first shutdown trigger (room
 * disconnected, ctx.shutdown(), the worker's request, entry throwing, an uncaught error of this job) ends it in
 * order: close the session → onSessionEnd(ctx, report) → leave the room → shutdown callbacks. Each step has a
 * bound, so a stuck step delays the end but never stops it; the worker's job machine kills the process if even
 * that takes too long.
 */
import { RoomEvent } from '@livekit/rtc-node';
import type { AgentSession } from '../session/agentSession.ts';
import type { AgentSessionEvent } from '../session/events.ts';
import type { AgentDefinition, JobProcess } from './defineAgent.ts';
import type { RunningJob } from './ipc.ts';
import { jobInfoFromPlain } from './jobInfo.ts';
import { JobContext } from './jobContext.ts';
import { buildSessionReport } from './sessionReport.ts';
import { SessionRecorder } from './sessionRecorder.ts';

export interface JobHandle {
  ctx: JobContext;
  /** Ask the job to end (first reason wins). */
  end: (reason: string, error?: string | null) => void;
  /** Resolves once the job has fully ended: the reason and the error that ended it, if any. */
  done: Promise<{ reason: string; error: string | null }>;
}

const STEP_TIMEOUT = { sessionClose: 10_000, onSessionEnd: 30_000, disconnect: 5_000, callback: 10_000 };

export function startJob(def: AgentDefinition, running: RunningJob, proc: JobProcess, onStarted: () => void): JobHandle {
  let ended: { reason: string; error: string | null } | null = null;
  let trigger!: () => void;
  const triggered = new Promise<void>((r) => (trigger = r));
  const end = (reason: string, error: string | null = null) => {
    if (ended) return;
    ended = { reason, error };
    trigger();
  };
  const job = jobInfoFromPlain(running.info, running.job);
  const ctx = new JobContext({
    job,
    url: running.url,
    token: running.token,
    workerId: running.workerId,
    identity: running.acceptance.identity ?? `agent-${job.id}`,
    proc,
    reportDir: running.reportDir,
    recording: running.recording,
    onShutdown: (reason) => end(reason),
  });
  const startedAt = Date.now();
  const events: AgentSessionEvent[] = [];
  let recorder: SessionRecorder | null = null;
  ctx._onPrimarySession = (session) => {
    session.events$.subscribe((e) => events.push(e));
    if (ctx.recording) recorder = new SessionRecorder(session, startedAt);
  };
  ctx.room.on(RoomEvent.Disconnected, () => end('room disconnected'));

  const done = (async () => {
    ctx._run(() => {
      onStarted();
      Promise.resolve()
        .then(() => def.entry(ctx))
        .catch((e: Error) => end('job crashed', `entry failed: ${e?.stack ?? e}`));
    });
    await triggered;
    const { reason } = ended!;
    const session = ctx.primarySession;
    await bounded(closeSession(session), STEP_TIMEOUT.sessionClose);
    const audioRecordingPath = recorder ? await bounded((recorder as SessionRecorder).finish(running.reportDir, job.id), 10_000) : null;
    if (def.onSessionEnd) {
      const report = buildSessionReport(ctx, session, events, { startedAt, endedAt: Date.now(), jobEndReason: reason, audioRecordingPath: audioRecordingPath ?? null });
      await bounded(
        ctx._run(async () => def.onSessionEnd!(ctx, report)),
        STEP_TIMEOUT.onSessionEnd,
      ).catch((e: Error) => console.error(`[job ${job.id}] onSessionEnd failed: ${e.message}`));
    }
    await bounded(ctx.room.disconnect(), STEP_TIMEOUT.disconnect).catch(() => {});
    await Promise.all(
      ctx._shutdownCallbacks.map((cb) =>
        bounded(ctx._run(async () => cb(reason)), STEP_TIMEOUT.callback).catch((e: Error) => console.error(`[job ${job.id}] shutdown callback failed: ${e.message}`)),
      ),
    );
    return ended!;
  })();
  return { ctx, end, done };
}

async function closeSession(session: AgentSession<any> | null): Promise<void> {
  if (!session || session.lifecycle === 'closed') return;
  await session.close({ reason: 'job_shutdown' }).catch(() => {});
}

/** Resolves with the promise's value, or null once `ms` have passed (the step is abandoned, not awaited). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]).finally(() => clearTimeout(timer));
}
