/** The job as entry code sees it: plain fields from the protobuf `livekit.Job`, plus the message itself. */
import { Job, JobType, ParticipantInfo_Kind } from '@livekit/protocol';

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
  raw: Job;
}

export function jobInfo(job: Job): JobInfo {
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
    raw: job,
  };
}
