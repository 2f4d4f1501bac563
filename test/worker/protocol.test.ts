/** The wire layer and the options, without a server: URLs, frames both ways, malformed input, option errors, answers. */
import { AvailabilityResponse, Job, JobStatus, JobType, RegisterWorkerRequest, ServerMessage, WorkerMessage, WorkerStatus } from '@livekit/protocol';
import { describe, expect, it } from 'vitest';
import { agentEndpoint, availabilityMessage, decodeServerMessage, jobStatusMessage, lkProtocol, registerMessage, workerStatusMessage, workerToken } from '../../src/worker/protocol.ts';
import { jobInfo, jobInfoFromPlain, plainJobInfo } from '../../src/worker/jobInfo.ts';
import { resolveWorkerOptions } from '../../src/worker/options.ts';
import { JobRequest } from '../../src/worker/jobRequest.ts';
import { defineAgent, agentOf } from '../../src/worker/defineAgent.ts';

describe('worker protocol', () => {
  it('maps a LiveKit URL to its /agent endpoint', () => {
    expect(agentEndpoint('ws://10.0.0.1:7880')).toBe('ws://10.0.0.1:7880/agent?protocol=1');
    expect(agentEndpoint('https://example.livekit.cloud/')).toBe('wss://example.livekit.cloud/agent?protocol=1');
    expect(agentEndpoint('http://host/base/')).toBe('ws://host/base/agent?protocol=1');
    expect(() => agentEndpoint('localhost:7880')).toThrow(/scheme must be ws, wss, http or https/);
    expect(() => agentEndpoint('not a url')).toThrow(/not a LiveKit URL/);
  });

  it('the worker token carries only the agent grant', async () => {
    const jwt = await workerToken('devkey', 'secret');
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
    expect(claims.video).toEqual({ agent: true });
    expect(claims.sub).toBeUndefined();
  });

  it('encodes register, availability, status and job status as WorkerMessages', () => {
    const reg = WorkerMessage.fromBinary(registerMessage({ type: 'publisher', agentName: 'a' }));
    expect(reg.message.case).toBe('register');
    const r = reg.message.value as RegisterWorkerRequest;
    expect(r.type).toBe(JobType.JT_PUBLISHER);
    expect(r.agentName).toBe('a');
    expect(r.allowedPermissions).toMatchObject({ canPublish: true, canSubscribe: true, canPublishData: true, canUpdateMetadata: true, hidden: false, agent: true });
    const yes = WorkerMessage.fromBinary(availabilityMessage('AJ_1', { available: true, accept: { identity: 'agent-x', attributes: { k: 'v' } } })).message.value as AvailabilityResponse;
    expect(yes).toMatchObject({ jobId: 'AJ_1', available: true, participantIdentity: 'agent-x', participantAttributes: { k: 'v' } });
    const no = WorkerMessage.fromBinary(availabilityMessage('AJ_1', { available: false, terminate: true })).message.value as AvailabilityResponse;
    expect(no).toMatchObject({ available: false, terminate: true });
    expect(WorkerMessage.fromBinary(workerStatusMessage({ full: true, load: 0.8, jobCount: 3 })).message.value).toMatchObject({ status: WorkerStatus.WS_FULL, jobCount: 3 });
    expect(WorkerMessage.fromBinary(jobStatusMessage('AJ_1', 'failed', 'boom')).message.value).toMatchObject({ jobId: 'AJ_1', status: JobStatus.JS_FAILED, error: 'boom' });
  });

  it('a malformed server frame is an Error value, not a throw', () => {
    const ok = decodeServerMessage(new ServerMessage({ message: { case: 'termination', value: { jobId: 'AJ_1' } } }).toBinary());
    // Decoded by the CommonJS build the worker loads lazily (protocol.ts): its class, not the ESM import's.
    expect(ok).toBeInstanceOf(lkProtocol().ServerMessage);
    expect((ok as ServerMessage).message).toMatchObject({ case: 'termination', value: { jobId: 'AJ_1' } });
    const bad = decodeServerMessage(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(bad).toBeInstanceOf(Error);
    expect((bad as Error).message).toMatch(/^malformed server frame \(5 bytes\)/);
  });
});

describe('the job as the job process gets it', () => {
  const job = new Job({
    id: 'AJ_9',
    dispatchId: 'AD_1',
    metadata: '{"k":1}',
    agentName: 'named',
    type: JobType.JT_PUBLISHER,
    room: { name: 'r', sid: 'RM_2' },
    participant: { identity: 'u', sid: 'PA_1', name: 'User', kind: 7 },
    attributes: { a: 'b' },
  });

  it('plain fields survive IPC (JSON); raw decodes from the JSON only when read, once', () => {
    const plain = JSON.parse(JSON.stringify(plainJobInfo(job)));
    const info = jobInfoFromPlain(plain, JSON.parse(JSON.stringify(job.toJson())));
    expect(info).toMatchObject({ id: 'AJ_9', dispatchId: 'AD_1', type: 'publisher', room: { name: 'r', sid: 'RM_2' }, attributes: { a: 'b' } });
    // Protocol kind 7 is CONNECTOR (rtc-node's 7 would be another kind): the name crosses, not the number.
    expect(info.participant).toEqual({ identity: 'u', sid: 'PA_1', name: 'User', kind: 'CONNECTOR' });
    expect(info.raw.equals(job)).toBe(true);
    expect(info.raw).toBe(info.raw);
    const { raw: _raw, ...rest } = jobInfo(job);
    expect(rest).toEqual(plain);
  });
});

describe('worker options and answers', () => {
  const env = { LIVEKIT_URL: 'ws://h:1', LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' };
  it('takes credentials from the environment, names what is missing, rejects bad values', () => {
    expect(resolveWorkerOptions({ agent: 'a.ts' }, env, 2)).toMatchObject({ url: 'ws://h:1', loadThreshold: 0.7, numIdleProcesses: 2, jobsPerProcess: 1 });
    expect(resolveWorkerOptions({ agent: 'a.ts', dev: true }, env, 8)).toMatchObject({ loadThreshold: Infinity, numIdleProcesses: 0 });
    expect(() => resolveWorkerOptions({ agent: 'a.ts' }, { LIVEKIT_URL: 'ws://h' }, 2)).toThrow('missing LIVEKIT_API_KEY (--api-key), LIVEKIT_API_SECRET (--api-secret)');
    expect(() => resolveWorkerOptions({ agent: 'a.ts', loadThreshold: -1 }, env, 2)).toThrow('worker option loadThreshold must be a number in 0..Infinity, got -1');
    expect(() => resolveWorkerOptions({ agent: 'a.ts', type: 'everyone' as never }, env, 2)).toThrow(/type must be 'room' or 'publisher'/);
  });

  it('JobRequest: one answer; accept defaults the identity and adds lk.agent.name; silence accepts', () => {
    const job = new Job({ id: 'AJ_7', type: JobType.JT_ROOM, room: { name: 'r', sid: 'RM_1' } });
    const req = new JobRequest(job, 'named');
    req.accept({ name: 'Bot' });
    expect(() => req.reject()).toThrow('job AJ_7 was already accepted');
    expect(req.settle()).toEqual({ accept: true, acceptance: { name: 'Bot', identity: 'agent-AJ_7', metadata: '', attributes: { 'lk.agent.name': 'named' } } });
    expect(new JobRequest(job, '').settle()).toMatchObject({ accept: true });
    const no = new JobRequest(job, '');
    no.reject({ terminate: true });
    expect(no.settle()).toEqual({ accept: false, terminate: true });
  });

  it('defineAgent checks its functions; a file without an agent is named', () => {
    expect(() => defineAgent({} as never)).toThrow('defineAgent: `entry(ctx)` must be a function');
    expect(() => agentOf({ default: 42 }, 'x.ts')).toThrow('x.ts has no agent: its default export must be defineAgent({ entry(ctx) { … } })');
  });
});
