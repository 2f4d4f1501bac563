/** Dispatch against the real LiveKit server: automatic, explicit (CreateDispatch and a token's room configuration), publisher jobs. */
import { AgentDispatchClient } from 'livekit-server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentWorker, prettyLogger, silentLogger, type JobEnded } from '../../src/worker/index.ts';
import { haveServer, join, LK, uniq, waitFor, waitForAgent, agentsIn, sleep } from './lk.ts';
import type { Room } from '@livekit/rtc-node';

const AGENT = new URL('./agents/echoAgent.ts', import.meta.url);
const workers: AgentWorker[] = [];
const rooms: Room[] = [];
afterEach(async () => {
  await Promise.all(rooms.splice(0).map((r) => r.disconnect()));
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

function worker(opts: Partial<ConstructorParameters<typeof AgentWorker>[0]> = {}) {
  const w = new AgentWorker({ agent: AGENT, url: LK.url, apiKey: LK.key, apiSecret: LK.secret, numIdleProcesses: 1, logger: process.env.VC_TEST_LOG ? prettyLogger() : silentLogger, shutdownTimeout: 5000,
    // CPU load on a shared 2-core test machine would make the worker FULL at random; tests that need load say so.
    loadFunc: () => 0, ...opts });
  workers.push(w);
  void w.start();
  return w;
}
const registered = (w: AgentWorker) => new Promise<void>((r) => w.once('registered', () => r()));
const track = <T>(r: T) => (rooms.push(r as Room), r);

describe.skipIf(!haveServer)('dispatch (real LiveKit server)', () => {
  it('automatic dispatch: a worker without agentName gets a job for a new room and the agent joins with least privilege', async () => {
    const prefix = uniq('auto');
    // Other test files share the server: take only this test's rooms (a rejected job goes elsewhere or nowhere).
    const w = worker({ onRequest: (req) => (req.job.room.name.startsWith(prefix) ? req.accept({ name: 'Echo' }) : req.reject()) });
    await registered(w);
    expect(w.workerId).toMatch(/^AW_/);
    const room = track(await join(`${prefix}-room`));
    const agent = await waitForAgent(room);
    expect(agent.attributes['test.room']).toBe(`${prefix}-room`);
    expect(agent.identity).toBe(`agent-${agent.attributes['test.job']}`);
    expect(agent.attributes['test.identity']).toBe(agent.identity);
    expect(agent.attributes['test.model']).toBe('loaded-once');
    expect(agent.attributes['lk.agent.name']).toBe('');
    expect(agent.name).toBe('Echo');
    expect(w.activeJobs).toBe(1);
    const claims = JSON.parse(agent.attributes['test.claims']!);
    expect(claims.kind).toBe('agent');
    expect(claims.sub).toBe(agent.identity);
    // Join this room, publish, subscribe, send data, set its own attributes (lk.agent.state); nothing else:
    // no admin, create, list, recorder, hidden or ingress rights.
    const granted = Object.entries(claims.video).filter(([, v]) => v === true).map(([k]) => k).sort();
    expect(granted.filter((k) => k !== 'canSubscribeMetrics')).toEqual(['agent', 'canPublish', 'canPublishData', 'canSubscribe', 'canUpdateOwnMetadata', 'roomJoin']);
    expect(claims.video.room).toBe(`${prefix}-room`);
  });

  it('explicit dispatch: a named worker gets no automatic job, but one per CreateDispatch, with its metadata', async () => {
    const name = uniq('named');
    const w = worker({ agentName: name });
    await registered(w);
    const roomName = uniq('explicit');
    const room = track(await join(roomName));
    await sleep(1500);
    expect(agentsIn(room)).toHaveLength(0);
    const dispatch = await new AgentDispatchClient(LK.url.replace(/^ws/, 'http'), LK.key, LK.secret).createDispatch(roomName, name, { metadata: '{"lang":"fr"}' });
    expect(dispatch.id).toMatch(/^AD_/);
    const agent = await waitForAgent(room);
    expect(agent.attributes['test.metadata']).toBe('{"lang":"fr"}');
    expect(agent.attributes['lk.agent.name']).toBe(name);
  });

  it("explicit dispatch through a token's room configuration", async () => {
    const name = uniq('tokencfg');
    const w = worker({ agentName: name });
    await registered(w);
    const room = track(await join(uniq('tokenroom'), uniq('user'), [{ agentName: name, metadata: 'from-token' }]));
    const agent = await waitForAgent(room);
    expect(agent.attributes['test.metadata']).toBe('from-token');
  });

  it("type 'publisher': one job per participant that publishes", async () => {
    const name = uniq('pub');
    const w = worker({ agentName: name, type: 'publisher', numIdleProcesses: 2 });
    await registered(w);
    const roomName = uniq('pubroom');
    const ended: JobEnded[] = [];
    w.on('job_ended', (e) => ended.push(e));
    const a = track(await join(roomName, 'alice', [{ agentName: name }]));
    const b = track(await join(roomName, 'bob'));
    const { AudioSource, LocalAudioTrack, TrackPublishOptions, TrackSource } = await import('@livekit/rtc-node');
    for (const r of [a, b]) {
      const src = new AudioSource(16000, 1);
      await r.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('mic', src), new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
    }
    const agents = await waitFor(() => agentsIn(a).filter((p) => p.attributes['test.publisher']).length >= 2 && agentsIn(a), 20_000, 'two publisher agents');
    expect(agents.map((p) => p.attributes['test.publisher']).sort()).toEqual(['alice', 'bob']);
    expect(ended.filter((e) => e.outcome === 'failed')).toEqual([]);
  });
});
