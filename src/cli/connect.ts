/**
 * `voicechart connect <agent file> --room <name>`: runs one job in one room without dispatch. The room is
 * created if missing; the agent's token is minted here with the same least privilege the server gives
 * dispatched agents (join this room, publish, subscribe, data, own attributes; kind agent). Ctrl+C ends the
 * job (session closes, onSessionEnd, room left), a second one kills it.
 */
import { randomUUID } from 'node:crypto';
import { plainJobInfo } from '../worker/jobInfo.ts';
import { lkProtocol, lkServerSdk } from '../worker/protocol.ts';
import { ProcessPool } from '../worker/processPool.ts';
import { resolveWorkerOptions } from '../worker/options.ts';
import { cpus } from 'node:os';
import type { WorkerArgs } from './args.ts';
import { agentPath, CliError, loggerFor } from './workerCommands.ts';

export async function runConnect(args: WorkerArgs): Promise<number> {
  const log = loggerFor(args);
  const agent = agentPath(args.agentFile);
  let o;
  try {
    o = resolveWorkerOptions({ agent, url: args.url, apiKey: args.apiKey, apiSecret: args.apiSecret, agentName: args.agentName, dev: true }, process.env, cpus().length);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const http = o.url.replace(/^ws/, 'http');
  const roomName = args.room!;
  log('info', `creating or finding room ${roomName}`);
  // The CommonJS builds the worker code uses (protocol.ts), so that this process loads one copy.
  const { Job, JobType, Room: RoomInfo } = lkProtocol();
  const { AccessToken, RoomServiceClient } = lkServerSdk();
  let info;
  try {
    info = await new RoomServiceClient(http, o.apiKey, o.apiSecret).createRoom({ name: roomName });
  } catch (e) {
    throw new CliError(`could not create room ${roomName} on ${o.url}: ${(e as Error).message}`);
  }
  const identity = args.participantIdentity ?? `agent-${randomUUID().slice(0, 12)}`;
  const at = new AccessToken(o.apiKey, o.apiSecret, { identity, ttl: '6h', attributes: { 'lk.agent.name': o.agentName } });
  at.kind = 'agent';
  at.addGrant({ roomJoin: true, room: roomName, canPublish: true, canSubscribe: true, canPublishData: true, canUpdateOwnMetadata: true, agent: true });
  const job = new Job({ id: `AJ_local_${randomUUID().slice(0, 8)}`, type: JobType.JT_ROOM, room: new RoomInfo({ name: info.name, sid: info.sid }), agentName: o.agentName });

  return new Promise<number>((resolve) => {
    let outcome = 0;
    const pool = new ProcessPool({
      agentFile: agent,
      numIdleProcesses: 0,
      jobsPerProcess: 1,
      log,
      onJobEvent: (_id, e) => {
        if (e.type === 'started') log('info', `joined ${roomName} as ${identity}`, { jobId: job.id });
        else if (e.type === 'ended' || e.type === 'exited') {
          if (e.type === 'ended' && e.error) {
            log('error', `job ended: ${e.error}`, { reason: e.reason });
            outcome = 1;
          } else if (e.type === 'exited') {
            log('error', `job process exited (${e.signal ?? e.code})`);
            outcome = 1;
          } else log('info', `job ended: ${e.reason}`);
          pool.close();
          resolve(outcome);
        }
      },
    });
    pool.start();
    let signals = 0;
    const onSignal = () => {
      if (++signals === 1) {
        log('info', 'leaving the room (again to stop now)');
        pool.send(job.id, { type: 'shutdown', jobId: job.id, reason: 'user requested' });
      } else pool.kill(job.id);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void (async () => {
      log('info', 'starting the job process (imports the agent, runs prewarm)');
      try {
        await pool.acquire(job.id);
      } catch (e) {
        log('error', (e as Error).message);
        pool.close();
        return resolve(1);
      }
      pool.send(job.id, {
        type: 'start',
        running: { info: plainJobInfo(job), job: job.toJson(), url: o.url, token: await at.toJwt(), workerId: 'local', acceptance: { identity }, reportDir: o.reportDir, recording: o.recording },
      });
    })();
  });
}
