/**
 * The worker's inference host killed under a running job (real LiveKit server, real job process): the worker
 * restarts it, the job's VAD reconnects on its own and still hears the user, and the job ends normally.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobEnded } from '../../src/worker/index.ts';
import { haveServer, join, sessionAgentWorker, uniq, waitFor } from './lk.ts';

describe.skipIf(!haveServer)('inference host restart under a job (real LiveKit server)', () => {
  it('a host killed as the job starts is replaced; the job process keeps its shared model and hears the user', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'vc-host-'));
    const name = uniq('hostkill');
    const logs: string[] = [];
    const w = sessionAgentWorker(name, dir, { logger: (level, msg) => logs.push(`${level} ${msg}`) });
    const ended: JobEnded[] = [];
    w.on('job_ended', (e) => ended.push(e));
    let killed: number | null = null;
    // The idle job process connected to this host at prewarm: its VAD must notice the dead connection and reconnect
    // to the replacement (a batch in flight at a kill is resent: test/silero.shared.test.ts).
    w.on('job_started', () => {
      killed = w.inferenceHostPid;
      if (killed) process.kill(killed, 'SIGKILL');
    });
    void w.start();
    await waitFor(() => w.inferenceHostPid, 15_000, 'inference host');
    const user = await join(uniq('hk'), uniq('u'), [{ agentName: name }]);
    try {
      const end = await waitFor(() => ended[0], 40_000, 'job ended');
      expect(end).toMatchObject({ outcome: 'success', reason: 'test finished', error: null });
      expect(killed).toBeTruthy();
      const replaced = await waitFor(() => w.inferenceHostPid !== killed && w.inferenceHostPid, 10_000, 'a new host');
      expect(replaced).not.toBe(killed);
      expect(logs.some((l) => /^error inference host exited \(SIGKILL\)/.test(l))).toBe(true);
      expect(logs).toContain('warn inference host restarted');
      expect(JSON.parse(readFileSync(joinPath(dir, `vad-${end.job.id}.json`), 'utf8'))).toEqual({ model: 'SileroSharedModel', onnxruntimeMapped: false });
      const report = JSON.parse(readFileSync(joinPath(dir, `session-${end.job.id}.json`), 'utf8'));
      expect(report.events).toContainEqual(expect.objectContaining({ type: 'user_state_changed', newState: 'speaking' }));
      expect(report.events.filter((e: { type: string; source?: string }) => e.type === 'error' && e.source === 'vad')).toEqual([]);
    } finally {
      await user.disconnect();
      await w.close();
    }
  }, 60_000);
});
