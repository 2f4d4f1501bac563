/** Messages between the worker and its job processes (Node IPC, structured-clone JSON). */
import type { PlainJobInfo } from './jobInfo.ts';
import type { Acceptance } from './protocol.ts';

export interface RunningJob {
  /** The job's fields, read by the worker (the job process need not load `@livekit/protocol` for them). */
  info: PlainJobInfo;
  /** The protobuf Job as JSON (`Job.toJson()`), so it survives IPC unchanged; decoded only if `ctx.job.raw` is read. */
  job: unknown;
  url: string;
  token: string;
  workerId: string;
  acceptance: Acceptance;
  /** Where session reports (and recordings) go when onSessionEnd asks for the default path. */
  reportDir: string;
  recording: boolean;
}

export type ToJobProcess =
  | { type: 'start'; running: RunningJob }
  | { type: 'shutdown'; jobId: string; reason: string }
  | { type: 'ping'; t: number };

export type FromJobProcess =
  | { type: 'ready'; pid: number; prewarmMs: number }
  | { type: 'initFailed'; error: string }
  | { type: 'started'; jobId: string }
  | { type: 'ended'; jobId: string; reason: string; error: string | null }
  | { type: 'pong'; t: number; rssMb: number; heapUsedMb?: number; heapTotalMb?: number; externalMb?: number };
