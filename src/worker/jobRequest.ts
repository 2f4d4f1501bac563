/** What onRequest sees: the offered job, and one answer (accept or reject). */
import type { Job } from '@livekit/protocol';
import type { Acceptance } from './protocol.ts';
import { jobInfo, type JobInfo } from './jobInfo.ts';

export type JobAnswer = { accept: true; acceptance: Required<Omit<Acceptance, 'attributes'>> & { attributes: Record<string, string> } } | { accept: false; terminate: boolean };

export class JobRequest {
  readonly job: JobInfo;
  private answer: JobAnswer | null = null;

  constructor(
    readonly raw: Job,
    private readonly agentName: string,
  ) {
    this.job = jobInfo(raw);
  }

  get answered(): boolean {
    return this.answer !== null;
  }

  /** Take the job. The identity defaults to `agent-<job id>`; `lk.agent.name` is added to the attributes. */
  accept(opts: Acceptance = {}): void {
    if (this.answer) throw new Error(`job ${this.job.id} was already ${this.answer.accept ? 'accepted' : 'rejected'}`);
    this.answer = {
      accept: true,
      acceptance: {
        name: opts.name ?? '',
        identity: opts.identity || `agent-${this.job.id}`,
        metadata: opts.metadata ?? '',
        attributes: { 'lk.agent.name': this.agentName, ...(opts.attributes ?? {}) },
      },
    };
  }

  /** Decline: the server offers the job to another worker, or with `terminate` ends it for good. */
  reject(opts: { terminate?: boolean } = {}): void {
    if (this.answer) throw new Error(`job ${this.job.id} was already ${this.answer.accept ? 'accepted' : 'rejected'}`);
    this.answer = { accept: false, terminate: opts.terminate ?? false };
  }

  /** @internal the answer, or accept() with the defaults when onRequest said nothing. */
  settle(): JobAnswer {
    if (!this.answer) this.accept();
    return this.answer!;
  }
}
