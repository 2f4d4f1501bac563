/**
 * The job as entry code sees it: plain fields from the protobuf `livekit.Job`, plus the message itself (`raw`).
 * The worker reads the fields (plainJobInfo) and sends them to the job process with the message as JSON; the job
 * process decodes `raw` only when something reads it, so it never loads `@livekit/protocol` otherwise.
 */
import type { Job } from '@livekit/protocol';
import { lkProtocol } from './protocol.ts';

export interface JobInfo {
  id: string;
  dispatchId: string;
  /** The dispatch metadata (CreateDispatch, a token's room configuration). */
  metadata: string;
  agentName: string;
  type: 'room' | 'publisher' | 'participant';
  room: { name: string; sid: string };
  /** The publisher (publisher jobs) with its protocol kind name. */
  participant: { identity: string; sid: string; name: string; kind: string } | null;
  attributes: Record<string, string>;
  /**
   * The protobuf message (decoded on first read in a job process). An instance of `@livekit/protocol`'s CommonJS
   * build: read its fields; `instanceof` against an ESM import of the package is false.
   */
  raw: Job;
}

/** JobInfo without the message: what crosses IPC to the job process. */
export type PlainJobInfo = Omit<JobInfo, 'raw'>;

export function plainJobInfo(job: Job): PlainJobInfo {
  const { JobType, ParticipantInfo_Kind } = lkProtocol();
  const p = job.participant;
  return {
    id: job.id,
    dispatchId: job.dispatchId,
    metadata: job.metadata,
    agentName: job.agentName,
    type: job.type === JobType.JT_PUBLISHER ? 'publisher' : job.type === JobType.JT_PARTICIPANT ? 'participant' : 'room',
    room: { name: job.room?.name ?? '', sid: job.room?.sid ?? '' },
    // Protocol kinds are not rtc-node's numbers (CONNECTOR 7 vs 5): carry the name, never the number.
    participant: p ? { identity: p.identity, sid: p.sid, name: p.name, kind: ParticipantInfo_Kind[p.kind] ?? String(p.kind) } : null,
    attributes: { ...job.attributes },
  };
}

export function jobInfo(job: Job): JobInfo {
  return { ...plainJobInfo(job), raw: job };
}

/** In the job process: the fields as the worker read them, `raw` decoded from `rawJson` when first read. */
export function jobInfoFromPlain(plain: PlainJobInfo, rawJson: unknown): JobInfo {
  let raw: Job | undefined;
  const info = { ...plain } as JobInfo;
  Object.defineProperty(info, 'raw', { enumerable: true, get: () => (raw ??= lkProtocol().Job.fromJson(rawJson as never)) });
  return info;
}
