/** The job process runtime env: the tuning is added, the user's own values (even empty ones) win. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { jobProcess, type JobProcessEvent } from '../../actors/jobProcess.ts';
import { JOB_PROCESS_ENV, jobProcessEnv } from '../../src/worker/jobProcessRuntime.ts';

describe('job process runtime env', () => {
  it('adds the malloc and onnxruntime settings to the worker env without changing it', () => {
    const base = { PATH: '/bin', LIVEKIT_URL: 'ws://h' };
    const env = jobProcessEnv(base);
    expect(env).toEqual({ ...base, MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072', ORT_DISABLE_TELEMETRY: '1' });
    expect(base).toEqual({ PATH: '/bin', LIVEKIT_URL: 'ws://h' });
  });

  it('keeps what the user set', () => {
    const env = jobProcessEnv({ MALLOC_ARENA_MAX: '8', ORT_DISABLE_TELEMETRY: '' });
    expect(env.MALLOC_ARENA_MAX).toBe('8');
    expect(env.ORT_DISABLE_TELEMETRY).toBe('');
    expect(env.MALLOC_TRIM_THRESHOLD_).toBe(JOB_PROCESS_ENV.MALLOC_TRIM_THRESHOLD_);
  });
});

describe('a forked job process', () => {
  it('runs with the tuning in its environment, values the worker env sets first', async () => {
    let onEvent!: (e: JobProcessEvent) => void;
    const ready = new Promise<JobProcessEvent>((resolve) => (onEvent = (e) => e.type !== 'pong' && resolve(e)));
    const agentFile = fileURLToPath(new URL('./agents/echoAgent.ts', import.meta.url));
    const actor = createActor(jobProcess, { input: { agentFile, env: { ...process.env, MALLOC_ARENA_MAX: '4' }, onEvent, stdio: 'pipe' } });
    actor.start();
    try {
      const e = await ready;
      expect(e.type).toBe('ready');
      const environ = readFileSync(`/proc/${(e as { pid: number }).pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain('MALLOC_ARENA_MAX=4');
      expect(environ).toContain('MALLOC_TRIM_THRESHOLD_=131072');
      expect(environ).toContain('ORT_DISABLE_TELEMETRY=1');
    } finally {
      actor.stop();
    }
  }, 30_000);
});
