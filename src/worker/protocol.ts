/**
 * The agent-dispatch protocol on the server's `/agent` WebSocket: URL, auth token and the protobuf frames
 * (`livekit.WorkerMessage` up, `livekit.ServerMessage` down) from `@livekit/protocol`.
 */
import {
  AvailabilityResponse,
  JobStatus,
  JobType,
  ParticipantPermission,
  ParticipantInfo,
  RegisterWorkerRequest,
  Room as RoomInfo,
  SimulateJobRequest,
  ServerMessage,
  UpdateJobStatus,
  UpdateWorkerStatus,
  WorkerMessage,
  WorkerStatus,
} from '@livekit/protocol';
import { AccessToken } from 'livekit-server-sdk';
import { SDK_VERSION } from './version.ts';

export { SDK_VERSION };

/** Bumped with the protocol features this worker speaks; the server reads `?protocol=` (CurrentProtocol = 1). */
export const WORKER_PROTOCOL = 1;

/** `ws(s)://host[:port][/base]/agent` from a LiveKit URL given as ws(s) or http(s). */
export function agentEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a LiveKit URL: ${JSON.stringify(url)} (expected ws://host:port or wss://host)`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`not a LiveKit URL: ${url} (scheme must be ws, wss, http or https)`);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/agent`;
  u.searchParams.set('protocol', String(WORKER_PROTOCOL));
  return u.toString();
}

/** The worker's own token: nothing but the `agent` grant (no identity, no room). */
export async function workerToken(apiKey: string, apiSecret: string): Promise<string> {
  const at = new AccessToken(apiKey, apiSecret, { ttl: '6h' });
  at.addGrant({ agent: true });
  return at.toJwt();
}

export type ServerType = 'room' | 'publisher';
export const jobTypeOf = (t: ServerType): JobType => (t === 'publisher' ? JobType.JT_PUBLISHER : JobType.JT_ROOM);

/**
 * What the server copies into each agent token: join (always), publish, subscribe, publish data, update own
 * metadata (needed for `setAttributes`, e.g. `lk.agent.state`); not hidden, no recorder or admin rights.
 */
export const AGENT_PERMISSIONS = () =>
  new ParticipantPermission({ canPublish: true, canSubscribe: true, canPublishData: true, canUpdateMetadata: true, hidden: false, agent: true });

export function registerMessage(opts: { type: ServerType; agentName: string }): Uint8Array {
  return new WorkerMessage({
    message: {
      case: 'register',
      value: new RegisterWorkerRequest({ type: jobTypeOf(opts.type), agentName: opts.agentName, version: SDK_VERSION, allowedPermissions: AGENT_PERMISSIONS() }),
    },
  }).toBinary();
}

export interface Acceptance {
  name?: string;
  identity?: string;
  metadata?: string;
  attributes?: Record<string, string>;
}

export function availabilityMessage(jobId: string, answer: { available: true; accept: Acceptance } | { available: false; terminate?: boolean }): Uint8Array {
  const value = answer.available
    ? new AvailabilityResponse({
        jobId,
        available: true,
        participantName: answer.accept.name ?? '',
        participantIdentity: answer.accept.identity ?? '',
        participantMetadata: answer.accept.metadata ?? '',
        participantAttributes: answer.accept.attributes ?? {},
      })
    : new AvailabilityResponse({ jobId, available: false, terminate: answer.terminate ?? false });
  return new WorkerMessage({ message: { case: 'availability', value } }).toBinary();
}

export function workerStatusMessage(s: { full: boolean; load: number; jobCount: number }): Uint8Array {
  const value = new UpdateWorkerStatus({ status: s.full ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE, load: s.load, jobCount: s.jobCount });
  return new WorkerMessage({ message: { case: 'updateWorker', value } }).toBinary();
}

export type JobOutcome = 'running' | 'success' | 'failed';
const JOB_STATUS: Record<JobOutcome, JobStatus> = { running: JobStatus.JS_RUNNING, success: JobStatus.JS_SUCCESS, failed: JobStatus.JS_FAILED };

export function jobStatusMessage(jobId: string, status: JobOutcome, error = ''): Uint8Array {
  return new WorkerMessage({ message: { case: 'updateJob', value: new UpdateJobStatus({ jobId, status: JOB_STATUS[status], error }) } }).toBinary();
}

/**
 * `simulate_job`: asks the server to create a job for this worker's agent name in a room (a publisher job when a
 * participant is named), which then takes the normal availability → assignment path.
 */
export function simulateJobMessage(room: { name: string; sid?: string }, participantIdentity?: string): Uint8Array {
  const value = new SimulateJobRequest({
    type: participantIdentity ? JobType.JT_PUBLISHER : JobType.JT_ROOM,
    room: new RoomInfo({ name: room.name, sid: room.sid ?? '' }),
    participant: participantIdentity ? new ParticipantInfo({ identity: participantIdentity }) : undefined,
  });
  return new WorkerMessage({ message: { case: 'simulateJob', value } }).toBinary();
}

/** A liveness probe; the server answers with a `pong` carrying our timestamp back. */
export function pingMessage(nowMs: number): Uint8Array {
  return new WorkerMessage({ message: { case: 'ping', value: { timestamp: BigInt(nowMs) } } }).toBinary();
}

/** A server frame, or an Error saying why it is not one (the connection goes on). */
export function decodeServerMessage(data: Uint8Array): ServerMessage | Error {
  try {
    return ServerMessage.fromBinary(data);
  } catch (e) {
    return new Error(`malformed server frame (${data.byteLength} bytes): ${(e as Error).message}`);
  }
}
