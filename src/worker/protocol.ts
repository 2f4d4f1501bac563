/**
 * The agent-dispatch protocol on the server's `/agent` WebSocket: URL, auth token and the protobuf frames
 * (`livekit.WorkerMessage` up, `livekit.ServerMessage` down) from `@livekit/protocol`.
 *
 * `@livekit/protocol` and `livekit-server-sdk` load on first use (lkProtocol(), lkServerSdk()), not on import:
 * every job process imports this module (an agent file imports `voicechart/worker` for defineAgent) but encodes
 * no frame and signs no token, and the two cost ~8 MB of heap per process. Their CommonJS builds are loaded
 * (synchronously, so the encoders stay plain functions), which share the protobuf runtime that rtc-node's FFI
 * bindings (CommonJS) already loaded. Messages from them are instances of the CommonJS classes: code that checks
 * `instanceof` against an ESM `import { Job } from '@livekit/protocol'` gets false, so nothing here does.
 */
import { createRequire } from 'node:module';
import type * as LkProtocol from '@livekit/protocol';
import type * as LkServerSdk from 'livekit-server-sdk';
import { SDK_VERSION } from './version.ts';

const requireCjs = createRequire(import.meta.url);
let protocol: typeof LkProtocol | undefined;
let serverSdk: typeof LkServerSdk | undefined;

/** `@livekit/protocol` (its CommonJS build), loaded on the first call. */
export const lkProtocol = (): typeof LkProtocol => (protocol ??= requireCjs('@livekit/protocol') as typeof LkProtocol);

/** `livekit-server-sdk` (its CommonJS build, on the same `@livekit/protocol`), loaded on the first call. */
export const lkServerSdk = (): typeof LkServerSdk => (serverSdk ??= requireCjs('livekit-server-sdk') as typeof LkServerSdk);

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
  const at = new (lkServerSdk().AccessToken)(apiKey, apiSecret, { ttl: '6h' });
  at.addGrant({ agent: true });
  return at.toJwt();
}

export type ServerType = 'room' | 'publisher';
export const jobTypeOf = (t: ServerType): LkProtocol.JobType => (t === 'publisher' ? lkProtocol().JobType.JT_PUBLISHER : lkProtocol().JobType.JT_ROOM);

/**
 * What the server copies into each agent token: join (always), publish, subscribe, publish data, update own
 * metadata (needed for `setAttributes`, e.g. `lk.agent.state`); not hidden, no recorder or admin rights.
 */
export const AGENT_PERMISSIONS = () =>
  new (lkProtocol().ParticipantPermission)({ canPublish: true, canSubscribe: true, canPublishData: true, canUpdateMetadata: true, hidden: false, agent: true });

export function registerMessage(opts: { type: ServerType; agentName: string }): Uint8Array {
  const { WorkerMessage, RegisterWorkerRequest } = lkProtocol();
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
  const { AvailabilityResponse, WorkerMessage } = lkProtocol();
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
  const { UpdateWorkerStatus, WorkerMessage, WorkerStatus } = lkProtocol();
  const value = new UpdateWorkerStatus({ status: s.full ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE, load: s.load, jobCount: s.jobCount });
  return new WorkerMessage({ message: { case: 'updateWorker', value } }).toBinary();
}

export type JobOutcome = 'running' | 'success' | 'failed';
export function jobStatusMessage(jobId: string, status: JobOutcome, error = ''): Uint8Array {
  const { JobStatus, UpdateJobStatus, WorkerMessage } = lkProtocol();
  const JOB_STATUS: Record<JobOutcome, LkProtocol.JobStatus> = { running: JobStatus.JS_RUNNING, success: JobStatus.JS_SUCCESS, failed: JobStatus.JS_FAILED };
  return new WorkerMessage({ message: { case: 'updateJob', value: new UpdateJobStatus({ jobId, status: JOB_STATUS[status], error }) } }).toBinary();
}

/**
 * `simulate_job`: asks the server to create a job for this worker's agent name in a room (a publisher job when a
 * participant is named), which then takes the normal availability → assignment path.
 */
export function simulateJobMessage(room: { name: string; sid?: string }, participantIdentity?: string): Uint8Array {
  const { JobType, ParticipantInfo, Room: RoomInfo, SimulateJobRequest, WorkerMessage } = lkProtocol();
  const value = new SimulateJobRequest({
    type: participantIdentity ? JobType.JT_PUBLISHER : JobType.JT_ROOM,
    room: new RoomInfo({ name: room.name, sid: room.sid ?? '' }),
    participant: participantIdentity ? new ParticipantInfo({ identity: participantIdentity }) : undefined,
  });
  return new WorkerMessage({ message: { case: 'simulateJob', value } }).toBinary();
}

/** A liveness probe; the server answers with a `pong` carrying our timestamp back. */
export function pingMessage(nowMs: number): Uint8Array {
  return new (lkProtocol().WorkerMessage)({ message: { case: 'ping', value: { timestamp: BigInt(nowMs) } } }).toBinary();
}

/** A server frame, or an Error saying why it is not one (the connection goes on). */
export function decodeServerMessage(data: Uint8Array): LkProtocol.ServerMessage | Error {
  try {
    return lkProtocol().ServerMessage.fromBinary(data);
  } catch (e) {
    return new Error(`malformed server frame (${data.byteLength} bytes): ${(e as Error).message}`);
  }
}
