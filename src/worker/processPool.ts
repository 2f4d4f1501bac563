/**
 * Job processes kept warm ahead of jobs. `numIdleProcesses` of them have run prewarm and wait; a job takes one
 * (or, with jobsPerProcess > 1, a free slot in one) and the pool starts a replacement. A process that has run
 * its jobs is ended rather than reused, so no job inherits another's leftovers. Each process is pinged every
 * `pingInterval`; its pongs (with RSS), its job events and its exit go to the jobs it hosts.
 */
import { createActor, type Actor } from 'xstate';
import { jobProcess, type JobProcessEvent } from '../../actors/jobProcess.ts';
import type { ToJobProcess } from './ipc.ts';

export interface PoolOptions {
  agentFile: string;
  numIdleProcesses: number;
  jobsPerProcess: number;
  pingInterval?: number;
  /** Events of the process hosting `jobId`. */
  onJobEvent: (jobId: string, e: JobProcessEvent) => void;
  /** A process could not import the agent or run prewarm: the pool stops spawning. */
  onBroken?: (err: Error) => void;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  env?: NodeJS.ProcessEnv;
}

class PooledProcess {
  readonly jobs = new Set<string>();
  pid = 0;
  used = false;
  dead = false;
  readonly ready: Promise<void>;
  actor!: Actor<typeof jobProcess>;
  private settle!: (err?: Error) => void;
  constructor() {
    this.ready = new Promise<void>((resolve, reject) => (this.settle = (err) => (err ? reject(err) : resolve())));
    this.ready.catch(() => {});
  }
  resolveReady(err?: Error) {
    this.settle(err);
  }
  send(msg: ToJobProcess) {
    this.actor.send({ type: 'send', msg });
  }
}

export class ProcessPool {
  private readonly procs = new Set<PooledProcess>();
  private readonly byJob = new Map<string, PooledProcess>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Set when a process could not load the agent: no more spawning, every acquire fails with it. */
  private broken: Error | null = null;

  constructor(private readonly opts: PoolOptions) {}

  start(): void {
    this.timer = setInterval(() => this.ping(), this.opts.pingInterval ?? 2_500);
    this.timer.unref();
    this.refill();
  }

  /** Processes running prewarm or waiting for a job. */
  get idleCount(): number {
    return [...this.procs].filter((p) => !p.dead && !p.used).length;
  }

  get pids(): number[] {
    return [...this.procs].filter((p) => !p.dead && p.pid).map((p) => p.pid);
  }

  /** A ready process for this job (a warm one when there is one), the job registered to it. */
  async acquire(jobId: string): Promise<PooledProcess> {
    if (this.broken) throw this.broken;
    const free = [...this.procs].find((p) => !p.dead && p.jobs.size < this.opts.jobsPerProcess && (this.opts.jobsPerProcess > 1 || !p.used));
    const proc = free ?? this.spawn();
    proc.used = true;
    proc.jobs.add(jobId);
    this.byJob.set(jobId, proc);
    this.refill();
    await proc.ready;
    return proc;
  }

  send(jobId: string, msg: ToJobProcess): void {
    this.byJob.get(jobId)?.send(msg);
  }

  /** Kill the process hosting jobId (and so every job in it). */
  kill(jobId: string): void {
    this.byJob.get(jobId)?.actor.send({ type: 'kill' });
  }

  /** The job is over: a process left with no jobs is ended. */
  release(jobId: string): void {
    const proc = this.byJob.get(jobId);
    this.byJob.delete(jobId);
    if (!proc) return;
    proc.jobs.delete(jobId);
    if (proc.jobs.size === 0 && !proc.dead) {
      proc.dead = true;
      proc.actor.stop();
      this.procs.delete(proc);
      this.refill();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const p of this.procs) {
      p.dead = true;
      p.actor.stop();
    }
    this.procs.clear();
  }

  private refill(): void {
    if (this.closed || this.broken) return;
    while (this.idleCount < this.opts.numIdleProcesses) this.spawn();
  }

  private spawn(): PooledProcess {
    const proc = new PooledProcess();
    this.procs.add(proc);
    proc.actor = createActor(jobProcess, { input: { agentFile: this.opts.agentFile, env: this.opts.env, onEvent: (e) => this.onEvent(proc, e) } });
    proc.actor.start();
    return proc;
  }

  private onEvent(proc: PooledProcess, e: JobProcessEvent): void {
    switch (e.type) {
      case 'ready':
        proc.pid = e.pid;
        this.opts.log('info', 'job process ready', { pid: e.pid, prewarmMs: Math.round(e.prewarmMs) });
        return proc.resolveReady();
      case 'initFailed':
      case 'spawnFailed':
        this.broken = new Error(`the job process could not load the agent: ${e.error}`);
        this.opts.log('error', 'job process failed to start', { error: e.error });
        this.opts.onBroken?.(this.broken);
        return proc.resolveReady(this.broken);
      case 'started':
      case 'ended':
        return this.opts.onJobEvent(e.jobId, e);
      case 'pong':
        for (const j of proc.jobs) this.opts.onJobEvent(j, e);
        return;
      case 'exited': {
        const wasDead = proc.dead;
        proc.dead = true;
        proc.resolveReady(new Error(`job process exited (${e.signal ?? e.code}) before it was ready`));
        this.procs.delete(proc);
        for (const j of [...proc.jobs]) this.opts.onJobEvent(j, e);
        if (!wasDead) this.refill();
        return;
      }
    }
  }

  private ping(): void {
    const t = Date.now();
    for (const p of this.procs) if (!p.dead && p.pid) p.send({ type: 'ping', t });
  }
}
