/**
 * The server restarting under a running worker. The test runs its own LiveKit instance (namespace
 * voicechart-lk3, 10.99.2.1:7900) so it can stop and start it without disturbing the shared one.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentWorker, prettyLogger, silentLogger, type JobEnded } from '../../src/worker/index.ts';
import { haveServer, uniq, userToken, waitFor, agentsIn } from './lk.ts';

const SCRIPT = fileURLToPath(new URL('../../scripts/livekit-server.sh', import.meta.url));
const ENV = { ...process.env, VC_LK_NS: 'voicechart-lk3', VC_LK_SUBNET: '10.99.2', VC_LK_PORT: '7900' };
const URL_ = 'ws://10.99.2.1:7900';
const server = (cmd: 'up' | 'down' | 'stop-server' | 'start-server') => execFileSync('bash', [SCRIPT, cmd], { env: ENV, stdio: 'ignore', timeout: 60_000 });

describe.skipIf(!haveServer)('server restart (own LiveKit instance)', () => {
  beforeAll(() => server('up'), 60_000);
  afterAll(() => server('down'), 60_000);

  it('the worker reconnects with backoff, registers again and takes new jobs', async () => {
    const name = uniq('restart');
    const w = new AgentWorker({
      agent: new URL('./agents/echoAgent.ts', import.meta.url),
      url: URL_,
      apiKey: 'devkey',
      apiSecret: 'secret',
      agentName: name,
      numIdleProcesses: 1,
      loadFunc: () => 0,
      shutdownTimeout: 5000,
      logger: process.env.VC_TEST_LOG ? prettyLogger() : silentLogger,
    });
    const ids: string[] = [];
    const drops: { retry: number; delayMs: number }[] = [];
    const ended: JobEnded[] = [];
    w.on('registered', ({ workerId }) => ids.push(workerId));
    w.on('disconnected', (d) => drops.push(d));
    w.on('job_ended', (e) => ended.push(e));
    void w.start();
    try {
      await waitFor(() => ids.length === 1, 15_000, 'registered');
      const join = async () => {
        const r = new Room();
        const room = uniq('rs');
        await r.connect(URL_, await userToken(room, uniq('u'), [{ agentName: name }]), { autoSubscribe: true, dynacast: false });
        return r;
      };
      const before = await join();
      await waitFor(() => agentsIn(before).find((p) => p.attributes['test.job']), 15_000, 'agent before restart');
      server('stop-server');
      await waitFor(() => drops.length >= 2, 20_000, 'reconnect attempts while the server is down');
      expect(drops[1]!.delayMs).toBeGreaterThan(drops[0]!.delayMs);
      server('start-server');
      await waitFor(() => ids.length === 2, 30_000, 'registered again');
      expect(ids[1]).not.toBe(ids[0]);
      // The job whose room vanished with the server is the room SDK's to resume or end (it retries for a while);
      // it never failed the worker, and nothing reported it as failed.
      expect(ended.filter((e) => e.outcome === 'failed')).toEqual([]);
      const after = await join();
      await waitFor(() => agentsIn(after).find((p) => p.attributes['test.job']), 20_000, 'agent after restart');
      await after.disconnect();
      await before.disconnect().catch(() => {});
    } finally {
      await w.close();
    }
  }, 120_000);
});
