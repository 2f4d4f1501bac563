/** Shared by the worker tests: the real LiveKit server from the environment, tokens, participants, waiting. */
import { randomUUID } from 'node:crypto';
import { Room, RoomEvent, ParticipantKind, type RemoteParticipant } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { RoomConfiguration, RoomAgentDispatch } from '@livekit/protocol';
import { waitFor } from '../helpers/waitFor.ts';
import { AgentWorker, silentLogger, type Logger, type WorkerOptions } from '../../src/worker/index.ts';

export const LK = {
  url: process.env.LIVEKIT_URL ?? '',
  key: process.env.LIVEKIT_API_KEY ?? 'devkey',
  secret: process.env.LIVEKIT_API_SECRET ?? 'secret',
};
export const haveServer = !!LK.url;
if (!haveServer) {
  if (process.env.CI === 'true') throw new Error('LIVEKIT_URL is not set under CI: the worker tests need the LiveKit server (.ci/run starts it)');
  console.info('skipping worker tests against LiveKit: LIVEKIT_URL not set (bash scripts/livekit-server.sh up; eval "$(bash scripts/livekit-server.sh env)")');
}

export const uniq = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

export async function userToken(room: string, identity: string, agents?: { agentName: string; metadata?: string }[]): Promise<string> {
  const at = new AccessToken(LK.key, LK.secret, { identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true });
  if (agents) at.roomConfig = new RoomConfiguration({ agents: agents.map((a) => new RoomAgentDispatch(a)) });
  return at.toJwt();
}

export async function join(room: string, identity = uniq('user'), agents?: { agentName: string; metadata?: string }[]): Promise<Room> {
  const r = new Room();
  await r.connect(LK.url, await userToken(room, identity, agents), { autoSubscribe: true, dynacast: false });
  return r;
}

export const agentsIn = (room: Room) => [...room.remoteParticipants.values()].filter((p) => p.kind === ParticipantKind.AGENT);

/** The first agent participant whose attributes say it is ready (its entry set `test.job`). */
export function waitForAgent(room: Room, timeoutMs = 15_000, pred: (p: RemoteParticipant) => boolean = () => true): Promise<RemoteParticipant> {
  return waitFor(() => agentsIn(room).find((p) => p.attributes['test.job'] && pred(p)), timeoutMs, `no agent joined ${room.name}`);
}

export { waitFor };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function sendCmd(room: Room, cmd: string): Promise<void> {
  return room.localParticipant!.publishData(new TextEncoder().encode(cmd), { reliable: true, topic: 'cmd' });
}

export { RoomEvent };

/**
 * A worker on this server running agents/sessionAgent.ts (a real session that greets, hears a recording and ends the
 * job) for explicit dispatch to `agentName`, one warm process, reports written to `reportDir`.
 */
export function sessionAgentWorker(agentName: string, reportDir: string, extra: Partial<WorkerOptions> & { logger?: Logger } = {}): AgentWorker {
  return new AgentWorker({
    agent: new URL('./agents/sessionAgent.ts', import.meta.url),
    url: LK.url,
    apiKey: LK.key,
    apiSecret: LK.secret,
    agentName,
    numIdleProcesses: 1,
    loadFunc: () => 0,
    reportDir,
    logger: silentLogger,
    ...extra,
  });
}
