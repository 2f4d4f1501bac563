/** Worker options, their defaults and their validation (a bad option is one clear error, before connecting). */
import { fileURLToPath } from 'node:url';
import type { JobRequest } from './jobRequest.ts';
import type { ServerType } from './protocol.ts';

export interface ServerOptions {
  /** Set: explicit dispatch only (CreateDispatch, a token's room configuration). Unset: a job for every new room. */
  agentName?: string;
  /** 'room': one job per room; 'publisher': one job per participant that publishes. */
  type?: ServerType;
  /** Accept (optionally with the agent's name, identity, metadata, attributes) or reject. Default: accept. */
  onRequest?: (req: JobRequest) => Promise<void> | void;
  /** 0..1; at or above it the worker reports FULL and the server sends jobs elsewhere. Default 0.7 (dev: ∞). */
  loadThreshold?: number;
  /** 0..1; default: CPU utilisation of this machine. */
  loadFunc?: () => number;
  /** Job processes kept warm (prewarm done) ahead of jobs. Default min(cpus, 4) (dev: 0). */
  numIdleProcesses?: number;
  /** Jobs one process hosts at once (1: a process per job, the default; see README "Deploying agents"). */
  jobsPerProcess?: number;
  /**
   * Run Silero VAD for every job process in one inference host process of the worker (default true): job processes
   * load no onnxruntime (39 MB less each) and their windows share model calls. false: each loads its own.
   */
  sharedInference?: boolean;
  /** A job process above this RSS is logged (default 500 MB). */
  jobMemoryWarnMb?: number;
  /** A job process above this RSS is killed and its job failed (default 0: no limit). */
  jobMemoryLimitMb?: number;
  /** ms for a draining worker to wait for running jobs (default 30 min). */
  drainTimeout?: number;
  /** ms a job gets to end after shutdown (session close, onSessionEnd, callbacks) before it is killed. */
  shutdownTimeout?: number;
  /** ms without a pong from a job process before it counts as hung and is killed. */
  pingTimeout?: number;
  /** Write each session's audio (both sides) to a WAV beside its report. */
  recording?: boolean;
  /** Where reports and recordings are written (default: the working directory). */
  reportDir?: string;
  /** Reconnect attempts in a row before giving up. */
  maxRetry?: number;
  /** The health endpoint's address (`GET /`, `GET /worker`). Default 0.0.0.0. */
  httpHost?: string;
  /** Its port: default 8081 (dev: 0, a free port); null: no endpoint. */
  httpPort?: number | null;
  url?: string;
  apiKey?: string;
  apiSecret?: string;
}

export interface WorkerOptions extends ServerOptions {
  /** The agent file (path or file URL) every job process imports. */
  agent: string | URL;
  /** dev: no load limit, no idle processes, quick shutdown. */
  dev?: boolean;
}

export type ResolvedWorkerOptions = Required<Omit<WorkerOptions, 'onRequest' | 'loadFunc' | 'agent' | 'httpPort'>> & {
  httpPort: number | null;
  agent: string;
  onRequest: WorkerOptions['onRequest'];
  loadFunc: WorkerOptions['loadFunc'];
};

const num = (name: string, v: unknown, min: number, max = Infinity): number => {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) throw new RangeError(`worker option ${name} must be a number in ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
};

const bool = (name: string, v: unknown): boolean => {
  if (typeof v !== 'boolean') throw new TypeError(`worker option ${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
};

export function resolveWorkerOptions(o: WorkerOptions, env: NodeJS.ProcessEnv, cpus: number): ResolvedWorkerOptions {
  const dev = o.dev ?? false;
  const url = o.url ?? env.LIVEKIT_URL;
  const apiKey = o.apiKey ?? env.LIVEKIT_API_KEY;
  const apiSecret = o.apiSecret ?? env.LIVEKIT_API_SECRET;
  const missing = [!url && 'LIVEKIT_URL (--url)', !apiKey && 'LIVEKIT_API_KEY (--api-key)', !apiSecret && 'LIVEKIT_API_SECRET (--api-secret)'].filter(Boolean);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: the worker needs the server's URL and an API key and secret`);
  const type = o.type ?? 'room';
  if (type !== 'room' && type !== 'publisher') throw new RangeError(`worker option type must be 'room' or 'publisher', got ${JSON.stringify(type)}`);
  if (o.onRequest !== undefined && typeof o.onRequest !== 'function') throw new TypeError('worker option onRequest must be a function');
  if (o.loadFunc !== undefined && typeof o.loadFunc !== 'function') throw new TypeError('worker option loadFunc must be a function');
  const agent = o.agent instanceof URL ? fileURLToPath(o.agent) : String(o.agent ?? '').startsWith('file:') ? fileURLToPath(String(o.agent)) : String(o.agent ?? '');
  if (!agent) throw new Error('worker option agent (the agent file) is required');
  return {
    agent,
    dev,
    url: url!,
    apiKey: apiKey!,
    apiSecret: apiSecret!,
    agentName: o.agentName ?? env.LIVEKIT_AGENT_NAME ?? '',
    type,
    onRequest: o.onRequest,
    loadFunc: o.loadFunc,
    loadThreshold: num('loadThreshold', o.loadThreshold ?? (dev ? Infinity : 0.7), 0),
    numIdleProcesses: Math.floor(num('numIdleProcesses', o.numIdleProcesses ?? (dev ? 0 : Math.min(cpus, 4)), 0, 64)),
    jobsPerProcess: Math.floor(num('jobsPerProcess', o.jobsPerProcess ?? 1, 1, 1000)),
    sharedInference: bool('sharedInference', o.sharedInference ?? true),
    jobMemoryWarnMb: num('jobMemoryWarnMb', o.jobMemoryWarnMb ?? 500, 0),
    jobMemoryLimitMb: num('jobMemoryLimitMb', o.jobMemoryLimitMb ?? 0, 0),
    drainTimeout: num('drainTimeout', o.drainTimeout ?? (dev ? 0 : 30 * 60_000), 0),
    shutdownTimeout: num('shutdownTimeout', o.shutdownTimeout ?? (dev ? 5_000 : 30_000), 0),
    pingTimeout: num('pingTimeout', o.pingTimeout ?? 15_000, 100),
    recording: o.recording ?? false,
    reportDir: o.reportDir ?? process.cwd(),
    maxRetry: Math.floor(num('maxRetry', o.maxRetry ?? 16, 0)),
    httpHost: o.httpHost ?? '0.0.0.0',
    httpPort: o.httpPort === null ? null : Math.floor(num('httpPort', o.httpPort ?? (dev ? 0 : 8081), 0, 65535)),
  };
}
