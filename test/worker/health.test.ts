/** The worker's health endpoint and SimulateJob, against the real LiveKit server. */
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentWorker, silentLogger, type Logger } from '../../src/worker/index.ts';
import { haveServer, join, LK, uniq, waitFor, waitForAgent } from './lk.ts';
import type { Room } from '@livekit/rtc-node';

const AGENT = new URL('./agents/echoAgent.ts', import.meta.url);
const workers: AgentWorker[] = [];
const rooms: Room[] = [];
afterEach(async () => {
  await Promise.all(rooms.splice(0).map((r) => r.disconnect()));
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

function worker(opts: Partial<ConstructorParameters<typeof AgentWorker>[0]> = {}) {
  const w = new AgentWorker({ agent: AGENT, url: LK.url, apiKey: LK.key, apiSecret: LK.secret, numIdleProcesses: 0, logger: silentLogger, shutdownTimeout: 5000,
    loadFunc: () => 0, httpHost: '127.0.0.1', httpPort: 0, ...opts });
  workers.push(w);
  void w.start();
  return w;
}
const get = async (w: AgentWorker, path: string, method = 'GET') => {
  const port = await waitFor(() => w.httpPort, 5000, 'the health endpoint');
  return fetch(`http://127.0.0.1:${port}${path}`, { method });
};

describe.skipIf(!haveServer)('worker health endpoint and SimulateJob (real LiveKit server)', () => {
  it('GET / is 503 until registered, then 200 OK; GET /worker describes the worker and counts its jobs', async () => {
    // A server that is not there: the worker keeps retrying and is not healthy.
    const lost = worker({ url: 'ws://127.0.0.1:9', maxRetry: 100 });
    const down = await get(lost, '/');
    expect(down.status).toBe(503);
    expect(await down.text()).toMatch(/not registered/);

    const name = uniq('health');
    const w = worker({ agentName: name });
    await waitFor(() => w.workerId, 10_000, 'registration');
    const ok = await get(w, '/');
    expect([ok.status, await ok.text()]).toEqual([200, 'OK']);
    const info = await (await get(w, '/worker')).json();
    expect(info).toMatchObject({ agent_name: name, worker_type: 'JT_ROOM', worker_id: w.workerId, active_jobs: 0, draining: false, protocol_version: 1, project_type: 'nodejs' });
    expect(typeof info.sdk_version).toBe('string');
    expect((await get(w, '/nope')).status).toBe(404);
    expect((await get(w, '/', 'POST')).status).toBe(405);

    // A job (through SimulateJob: no dispatch, no token configuration) shows in active_jobs.
    const roomName = uniq('sim');
    const svc = new RoomServiceClient(LK.url.replace(/^ws/, 'http'), LK.key, LK.secret);
    const created = await svc.createRoom({ name: roomName, emptyTimeout: 60 });
    w.simulateJob({ name: created.name, sid: created.sid });
    const user = await join(roomName);
    rooms.push(user);
    const agent = await waitForAgent(user);
    expect(agent.attributes['test.room']).toBe(roomName);
    expect(agent.attributes['lk.agent.name']).toBe(name);
    await waitFor(async () => (await (await get(w, '/worker')).json()).active_jobs === 1 || null, 5000, 'active_jobs = 1');
    await svc.deleteRoom(roomName).catch(() => undefined);
  }, 60_000);

  it('a taken port is one clear error in the log; the worker still serves jobs', async () => {
    const first = worker();
    const port = await waitFor(() => first.httpPort, 5000, 'the first endpoint');
    const lines: string[] = [];
    const logger: Logger = (level, msg) => void (level === 'error' && lines.push(msg));
    const second = worker({ httpPort: port, logger });
    await waitFor(() => second.workerId, 10_000, 'registration');
    await waitFor(() => lines.length > 0 || null, 5000, 'the error');
    expect(lines).toEqual([`health endpoint: 127.0.0.1:${port} is in use (set httpPort, or --http-port 0 for a free port)`]);
    expect(second.httpPort).toBeNull();
    expect(second.workerId).toMatch(/^AW_/);
  }, 30_000);

  it('simulateJob before registration is a clear error', () => {
    const w = worker({ url: 'ws://127.0.0.1:9', maxRetry: 100 });
    expect(() => w.simulateJob({ name: 'r' })).toThrow(/not registered/);
  });
});
