/**
 * The worker: registers with the server's `/agent` endpoint, answers job requests, runs accepted jobs in job
 * processes and reports their status and its load. A thin facade: the connection's lifecycle is the
 * workerConnection machine, each job's the job machine; this class wires their named effects to the socket,
 * the process pool and the user's callbacks.
 */
import { EventEmitter } from 'node:events';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Job, ServerMessage } from '@livekit/protocol';
import { createActor, toPromise, type Actor } from 'xstate';
import { jobMachine } from '../../machines/job.ts';
import { workerConnectionMachine, statusOf } from '../../machines/workerConnection.ts';
import { workerSocket } from '../../actors/workerSocket.ts';
import { agentOf } from './defineAgent.ts';
import { JobRequest } from './jobRequest.ts';
import { jobInfo, plainJobInfo, type JobInfo } from './jobInfo.ts';
import type { Logger } from './log.ts';
import { prettyLogger } from './log.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './options.ts';
import { ProcessPool } from './processPool.ts';
import { agentEndpoint, availabilityMessage, jobStatusMessage, registerMessage, simulateJobMessage, workerStatusMessage, workerToken, type Acceptance } from './protocol.ts';
import { CpuLoad } from './cpuLoad.ts';
import { HealthServer } from './healthServer.ts';
import { SharedInference } from './sharedInference.ts';
import { SDK_VERSION } from './version.ts';

export interface JobEnded {
  job: JobInfo;
  outcome: 'success' | 'failed' | 'declined';
  reason: string | null;
  error: string | null;
}

interface RunningJobEntry {
  job: Job;
  actor: Actor<typeof jobMachine>;
  acceptance: Acceptance | null;
  token: string | null;
  url: string | null;
}

export interface WorkerEvents {
  registered: [{ workerId: string }];
  disconnected: [{ error: string | null; retry: number; delayMs: number }];
  status: [{ full: boolean; load: number; jobCount: number }];
  job_requested: [JobInfo];
  job_started: [JobInfo];
  job_ended: [JobEnded];
  draining: [];
  closed: [];
}

export class AgentWorker extends EventEmitter<WorkerEvents> {
  readonly options: ResolvedWorkerOptions;
  readonly log: Logger;
  private readonly jobs = new Map<string, RunningJobEntry>();
  private conn: Actor<typeof workerConnectionMachine> | null = null;
  private pool: ProcessPool | null = null;
  private inference: SharedInference | null = null;
  private sender: ((frame: Uint8Array) => void) | null = null;
  private loadTimer: NodeJS.Timeout | null = null;
  private readonly cpu = new CpuLoad();
  private health: HealthServer | null = null;
  private _httpPort: number | null = null;
  private finished!: Promise<void>;
  private _workerId: string | null = null;

  constructor(opts: WorkerOptions & { logger?: Logger }) {
    super();
    this.options = resolveWorkerOptions(opts, process.env, cpus().length);
    this.log = opts.logger ?? prettyLogger();
  }

  /** Options exported by the agent file (`server`), under the ones given explicitly. */
  static async fromAgentFile(opts: WorkerOptions & { logger?: Logger }): Promise<AgentWorker> {
    const file = opts.agent instanceof URL ? opts.agent : pathToFileURL(String(opts.agent));
    const def = agentOf(await import(file.href), String(opts.agent));
    return new AgentWorker({ ...(def.server ?? {}), ...definedOnly(opts), agent: opts.agent });
  }

  get workerId(): string | null {
    return this._workerId;
  }

  /** The health endpoint's port once it listens (null: none). */
  get httpPort(): number | null {
    return this._httpPort;
  }

  get activeJobs(): number {
    return this.jobs.size;
  }

  /** pids of the job processes (warm and busy). */
  get processIds(): number[] {
    return this.pool?.pids ?? [];
  }

  /** pid of the shared inference host while it runs (null: none, or restarting). */
  get inferenceHostPid(): number | null {
    return this.inference?.pid ?? null;
  }

  /** Connects and serves until closed (drain(), close(), or the server unreachable after maxRetry attempts). */
  start(): Promise<void> {
    if (this.conn) return this.finished;
    const o = this.options;
    const endpoint = agentEndpoint(o.url);
    this.inference = o.sharedInference ? new SharedInference(this.log) : null;
    this.pool = new ProcessPool({
      agentFile: o.agent,
      numIdleProcesses: o.numIdleProcesses,
      jobsPerProcess: o.jobsPerProcess,
      onJobEvent: (jobId, e) => this.onProcessEvent(jobId, e),
      onBroken: (err) => this.log('error', err.message),
      log: this.log,
      env: this.inference ? { ...process.env, ...this.inference.env() } : undefined,
    });
    this.pool.start();
    const conn = createActor(
      workerConnectionMachine.provide({
        actors: {
          socket: workerSocket({
            endpoint,
            token: () => workerToken(o.apiKey, o.apiSecret),
            registerFrame: registerMessage({ type: o.type, agentName: o.agentName }),
            onMessage: (m: ServerMessage) => this.onServerMessage(m),
            onSender: (s) => (this.sender = s),
            onWarning: (t) => this.log('warn', t),
          }),
        },
        actions: {
          sendStatus: (_, s) => {
            this.send(workerStatusMessage(s));
            this.emit('status', s);
          },
          offerJob: (_, { jobId }) => this.offer(jobId),
          declineJob: (_, { jobId }) => {
            this.log('info', 'job declined: worker full or draining', { jobId });
            this.jobs.get(jobId)?.actor.send({ type: 'request.rejected', terminate: false });
          },
          announceRegistered: (_, { workerId }) => {
            this._workerId = workerId;
            this.log('info', 'registered', { workerId, agentName: o.agentName || '(automatic dispatch)', type: o.type, url: o.url });
            this.emit('registered', { workerId });
          },
          announceDisconnected: (_, d) => {
            this.log('warn', `connection to the server lost; reconnecting in ${d.delayMs} ms`, { error: d.error, retry: d.retry });
            this.emit('disconnected', d);
          },
          announceFailed: (_, { error }) => this.log('error', `giving up on the server after ${o.maxRetry} attempts`, { error }),
          announceDraining: () => {
            this.log('info', 'draining: no new jobs; waiting for running jobs', { jobs: this.jobs.size });
            this.emit('draining');
          },
          announceClosed: () => void this.shutdownAll(),
        },
      }),
      { input: { loadThreshold: o.loadThreshold, maxRetry: o.maxRetry, drainTimeout: o.drainTimeout } },
    );
    this.conn = conn;
    this.finished = new Promise<void>((resolve) => this.once('closed', resolve));
    conn.start();
    if (o.httpPort !== null) this.serveHealth(conn, o.httpHost, o.httpPort);
    this.loadTimer = setInterval(() => this.isLive() && conn.send({ type: 'load.sampled', load: this.sampleLoad() }), 2_500);
    return this.finished;
  }

  private serveHealth(conn: Actor<typeof workerConnectionMachine>, host: string, port: number): void {
    const o = this.options;
    this.health = new HealthServer(() => {
      const snap = conn.getSnapshot();
      return {
        registered: this.isRegistered(),
        agentName: o.agentName,
        type: o.type,
        workerId: this._workerId,
        activeJobs: this.jobs.size,
        load: snap.context.load,
        draining: snap.context.draining,
        sdkVersion: SDK_VERSION,
      };
    });
    this.health.listen(host, port).then(
      (p) => {
        this._httpPort = p;
        this.log('info', 'health endpoint listening', { url: `http://${host}:${p}/` });
      },
      // Jobs still run without it; the orchestrator's probe will say so.
      (e: Error) => this.log('error', e.message),
    );
  }

  /**
   * Asks the server for a job in this room as if it had been dispatched (SimulateJob): it comes back as an ordinary
   * job request for this worker's agent name. Needs a registered worker; the room must exist on the server.
   */
  simulateJob(room: { name: string; sid?: string }, opts: { participantIdentity?: string } = {}): void {
    if (!this.isRegistered() || !this.sender) throw new Error('simulateJob: the worker is not registered with the server yet');
    this.send(simulateJobMessage(room, opts.participantIdentity));
  }

  /** Stop taking jobs (FULL), let running jobs finish (up to drainTimeout), then close. */
  drain(): Promise<void> {
    if (this.isLive()) this.conn!.send({ type: 'drain' });
    return this.finished ?? Promise.resolve();
  }

  /** Close now: running jobs are asked to shut down (up to shutdownTimeout each), then the processes end. */
  close(): Promise<void> {
    if (this.isLive()) this.conn!.send({ type: 'close' });
    return this.finished ?? Promise.resolve();
  }

  private send(frame: Uint8Array): void {
    this.sender?.(frame);
  }

  private sampleLoad(): number {
    try {
      return this.options.loadFunc ? this.options.loadFunc() : this.cpu.sample();
    } catch (e) {
      this.log('warn', `loadFunc failed: ${(e as Error).message}`);
      return 0;
    }
  }

  /** The connection is up and the server has answered the registration. */
  private isRegistered(): boolean {
    return this.conn?.getSnapshot().matches({ running: { link: { online: 'registered' } } }) ?? false;
  }

  private isLive(): boolean {
    return !!this.conn && this.conn.getSnapshot().status === 'active';
  }

  private jobsChanged(): void {
    if (!this.isLive()) return;
    this.conn!.send({ type: 'jobs.changed', count: this.jobs.size });
    // A custom load function usually counts jobs: sample at once so FULL is reported before the next request.
    if (this.options.loadFunc) this.conn!.send({ type: 'load.sampled', load: this.sampleLoad() });
  }

  private onServerMessage(msg: ServerMessage): void {
    const m = msg.message;
    switch (m.case) {
      case 'availability': {
        const job = m.value.job;
        if (!job) return this.log('warn', 'availability request without a job');
        this.jobs.set(job.id, { job, actor: this.jobActor(job), acceptance: null, token: null, url: null });
        this.emit('job_requested', jobInfo(job));
        this.conn?.send({ type: 'job.requested', jobId: job.id });
        return;
      }
      case 'assignment': {
        const entry = m.value.job && this.jobs.get(m.value.job.id);
        if (!entry) return this.log('warn', 'assignment for an unknown job, ignored', { jobId: m.value.job?.id });
        entry.job = m.value.job!;
        entry.token = m.value.token;
        entry.url = m.value.url || this.options.url;
        entry.actor.send({ type: 'assigned' });
        return;
      }
      case 'termination':
        return this.jobs.get(m.value.jobId)?.actor.send({ type: 'terminate' });
      default:
        return;
    }
  }

  private jobActor(job: Job): Actor<typeof jobMachine> {
    const o = this.options;
    const jobId = job.id;
    const actor = createActor(
      jobMachine.provide({
        actions: {
          answerAvailable: () => this.send(availabilityMessage(jobId, { available: true, accept: this.jobs.get(jobId)!.acceptance! })),
          answerUnavailable: (_, { terminate }) => this.send(availabilityMessage(jobId, { available: false, terminate })),
          launch: () => void this.launch(jobId),
          reportStatus: (_, { status, error }) => this.send(jobStatusMessage(jobId, status, error)),
          requestShutdown: (_, { reason }) => this.pool?.send(jobId, { type: 'shutdown', jobId, reason }),
          killProcess: (_, { why }) => {
            this.log('error', `killing the job process: ${why}`, { jobId });
            this.pool?.kill(jobId);
          },
          warnMemory: (_, { rssMb, limitMb }) => this.log('warn', `job process uses ${Math.round(rssMb)} MB (warning at ${limitMb} MB)`, { jobId }),
        },
      }),
      {
        input: {
          jobId,
          requestTimeout: 9_000,
          assignmentTimeout: 7_500,
          launchTimeout: 15_000,
          pingTimeout: o.pingTimeout,
          shutdownTimeout: o.shutdownTimeout,
          memoryWarnMb: o.jobMemoryWarnMb,
          memoryLimitMb: o.jobMemoryLimitMb,
        },
      },
    );
    actor.subscribe({
      complete: () => {
        const out = actor.getSnapshot().output!;
        this.jobs.delete(jobId);
        this.pool?.release(jobId);
        const info = jobInfo(job);
        if (out.outcome !== 'declined') this.log(out.outcome === 'success' ? 'info' : 'error', `job ended`, { jobId, room: info.room.name, reason: out.reason, error: out.error });
        this.emit('job_ended', { job: info, ...out });
        this.jobsChanged();
      },
    });
    actor.start();
    return actor;
  }

  private offer(jobId: string): void {
    const entry = this.jobs.get(jobId);
    if (!entry) return;
    const req = new JobRequest(entry.job, this.options.agentName);
    void (async () => {
      try {
        await this.options.onRequest?.(req);
      } catch (e) {
        this.log('error', `onRequest threw, job rejected: ${(e as Error).message}`, { jobId });
        if (!req.answered) req.reject();
      }
      const answer = req.settle();
      if (answer.accept) {
        entry.acceptance = answer.acceptance;
        entry.actor.send({ type: 'request.accepted' });
        this.jobsChanged();
      } else entry.actor.send({ type: 'request.rejected', terminate: answer.terminate });
    })();
  }

  private async launch(jobId: string): Promise<void> {
    const entry = this.jobs.get(jobId)!;
    try {
      await this.pool!.acquire(jobId);
    } catch (e) {
      entry.actor.send({ type: 'job.ended', reason: 'no job process', error: (e as Error).message });
      return;
    }
    this.pool!.send(jobId, {
      type: 'start',
      running: {
        info: plainJobInfo(entry.job),
        job: entry.job.toJson(),
        url: entry.url!,
        token: entry.token!,
        workerId: this._workerId ?? '',
        acceptance: entry.acceptance ?? {},
        reportDir: this.options.reportDir,
        recording: this.options.recording,
      },
    });
  }

  private onProcessEvent(jobId: string, e: import('../../actors/jobProcess.ts').JobProcessEvent): void {
    const actor = this.jobs.get(jobId)?.actor;
    if (!actor) return;
    if (e.type === 'started') {
      actor.send({ type: 'process.started' });
      const info = jobInfo(this.jobs.get(jobId)!.job);
      this.log('info', 'job started', { jobId, room: info.room.name });
      this.emit('job_started', info);
    } else if (e.type === 'ended') actor.send({ type: 'job.ended', reason: e.reason, error: e.error });
    else if (e.type === 'pong') actor.send({ type: 'process.pong', rssMb: e.rssMb });
    else if (e.type === 'exited') actor.send({ type: 'process.exited', code: e.code, signal: e.signal });
  }

  private async shutdownAll(): Promise<void> {
    if (this.loadTimer) clearInterval(this.loadTimer);
    const pending = [...this.jobs.values()];
    for (const j of pending) j.actor.send({ type: 'shutdown', reason: 'worker closing' });
    await Promise.all(pending.map((j) => toPromise(j.actor).catch(() => {})));
    this.pool?.close();
    this.inference?.close();
    await this.health?.close();
    this.log('info', 'worker closed');
    this.emit('closed');
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Start a worker for an agent file: `await runWorker({ agent: new URL('./agent.ts', import.meta.url) })`. */
export async function runWorker(opts: WorkerOptions & { logger?: Logger }): Promise<AgentWorker> {
  const w = await AgentWorker.fromAgentFile(opts);
  void w.start();
  return w;
}

export { statusOf };
