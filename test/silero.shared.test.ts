/**
 * Silero on the worker's inference host (thread: 'shared'): the host process, its supervision and the job
 * processes' connections to it, without a LiveKit server (the worker tests run it inside real job processes).
 */
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultModelPath, SileroVAD } from '../src/plugins/silero/index.ts';
import { INFERENCE_SOCKET_ENV, SileroSharedModel } from '../src/plugins/silero/sharedModel.ts';
import { SharedInference } from '../src/worker/sharedInference.ts';
import { silentLogger } from '../src/worker/log.ts';
import { frames, join, probabilities, samples, silence } from './helpers/vadAudio.ts';
import { waitFor } from './helpers/waitFor.ts';

let host: SharedInference;
let pcm: Int16Array;
let reference: number[];
const logs: string[] = [];

const close = (x: number[], y: number[]) => {
  expect(x.length).toBe(y.length);
  for (let i = 0; i < y.length; i++) expect(Math.abs(x[i]! - y[i]!), `window ${i}`).toBeLessThan(1e-4);
};

beforeAll(async () => {
  host = new SharedInference((level, msg) => logs.push(`${level} ${msg}`));
  pcm = join(silence(500), await samples('utterance-a-16k.wav'), silence(1000));
  reference = await probabilities(await SileroVAD.load({ thread: 'main' }), frames(pcm));
});
afterAll(() => host.close());

describe('Silero on the worker inference host', () => {
  it('gives the main-thread probabilities, and merges the windows of separate connections into shared model calls', async () => {
    const [x, y] = await Promise.all([
      SileroSharedModel.load(host.socketPath, defaultModelPath()),
      SileroSharedModel.load(host.socketPath, defaultModelPath()),
    ]);
    const vx = await SileroVAD.load({ thread: 'shared', batchDelayMs: 0 }).catch((e: Error) => e);
    expect(String(vx)).toMatch(/needs the worker's inference host/); // no socket in this process's environment
    // Two connections (as two job processes have), two streams each, 100 ms frames: the host merges what arrives
    // while it computes.
    const shared = [x, x, y, y].map((m) => probabilities(SileroVAD.over(m), frames(pcm, 16000, 1600)));
    for (const p of await Promise.all(shared)) close(p, reference);
    const runs = x.stats.runs + y.stats.runs;
    const windows = x.stats.windows + y.stats.windows;
    expect(windows).toBe(4 * reference.length);
    expect(runs * 1.5).toBeLessThan(windows);
    await x.close();
    await y.close();
  });

  it('loses no window when the host is killed mid-stream: the worker restarts it and the batch in flight is resent', async () => {
    process.env[INFERENCE_SOCKET_ENV] = host.socketPath;
    try {
      const vad = await SileroVAD.load(); // the default in a job process: the shared host
      expect(vad.model).toBeInstanceOf(SileroSharedModel);
      const before = await waitFor(() => host.pid, 10_000, 'host pid');
      let n = 0;
      const killed = { at: -1 };
      const killer = {
        label: 'silero',
        stream: (audio: Parameters<SileroVAD['stream']>[0]) =>
          vad.stream(audio).pipe(
            tap((e) => {
              if (e.type !== 'inference_done' || ++n !== 20) return;
              killed.at = n;
              process.kill(before, 'SIGKILL'); // the next window is on its way or about to be
            }),
          ),
      };
      const stream = probabilities(killer, frames(pcm, 16000, 1600));
      close(await stream, reference);
      expect(killed.at).toBe(20);
      const after = await waitFor(() => host.pid !== before && host.pid, 10_000, 'a new host');
      expect(after).not.toBe(before);
      expect(logs.some((l) => /^error inference host exited \(SIGKILL\); restarting in 250 ms/.test(l))).toBe(true);
      expect(logs).toContain('warn inference host restarted');
    } finally {
      delete process.env[INFERENCE_SOCKET_ENV];
    }
  });

  it('loses no window when the host hangs mid-stream: unanswered pings get it killed and replaced', async () => {
    const hangLogs: string[] = [];
    const own = new SharedInference((level, msg) => hangLogs.push(`${level} ${msg}`), { answerTimeoutMs: 1500 });
    try {
      const before = await waitFor(() => own.pid, 10_000, 'host pid');
      const vad = SileroVAD.over(await SileroSharedModel.load(own.socketPath, defaultModelPath()));
      let n = 0;
      const hanging = {
        label: 'silero',
        stream: (audio: Parameters<SileroVAD['stream']>[0]) =>
          vad.stream(audio).pipe(tap((e) => e.type === 'inference_done' && ++n === 20 && process.kill(before, 'SIGSTOP'))),
      };
      const t0 = Date.now();
      close(await probabilities(hanging, frames(pcm, 16000, 1600)), reference);
      expect(Date.now() - t0).toBeGreaterThan(1500); // the stream did wait for the hung host to be replaced
      expect(own.pid).not.toBe(before);
      expect(hangLogs.some((l) => /^error inference host stopped answering \(hung\); restarting in 250 ms/.test(l))).toBe(true);
      expect(() => process.kill(before, 0)).toThrow(); // killed, not left stopped
    } finally {
      own.close();
    }
  }, 20_000);

  it('says what is wrong: a file that is no model, no host; the default falls back to this process with a warning (after 5 s)', async () => {
    await expect(SileroSharedModel.load(host.socketPath, '/nonexistent/model.onnx')).rejects.toThrow(/cannot load \/nonexistent\/model.onnx/);
    await expect(SileroSharedModel.load(host.socketPath, new URL('./fixtures/utterance-a-16k.wav', import.meta.url).pathname)).rejects.toThrow(/cannot load/);
    await expect(SileroSharedModel.load('/tmp/vc-no-such-dir/inference.sock', defaultModelPath(), { reconnectMs: 300 })).rejects.toThrow(
      /cannot reach the inference host at \/tmp\/vc-no-such-dir\/inference.sock \(tried for 300 ms\): .*ENOENT/,
    );
    process.env[INFERENCE_SOCKET_ENV] = '/tmp/vc-no-such-dir/inference.sock';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const vad = await SileroVAD.load();
      expect(vad.model.constructor.name).toBe('SileroModel');
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/cannot reach the inference host .*; running Silero VAD in this process instead/));
      close(await probabilities(vad, frames(pcm)), reference);
    } finally {
      warn.mockRestore();
      delete process.env[INFERENCE_SOCKET_ENV];
    }
  }, 20_000);

  it('a host that is gone for good fails the windows in flight with the reason, and the next window reconnects', async () => {
    const own = new SharedInference(silentLogger);
    const m = await SileroSharedModel.load(own.socketPath, defaultModelPath(), { reconnectMs: 400 });
    const window = () => [new Float32Array(576), new Float32Array(256)] as const;
    expect((await m.infer(...window())).probability).toBeLessThan(0.5);
    own.close(); // the supervisor stops and the host is killed: no restart
    await expect(m.infer(...window())).rejects.toThrow(/cannot reach the inference host .*tried for 400 ms/);
    // A host at the same address again: the same model's next window reconnects and gets through.
    mkdirSync(dirname(own.socketPath), { recursive: true });
    const again = fork(new URL('../src/plugins/silero/inferenceHost.mjs', import.meta.url).pathname, [own.socketPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await new Promise((r) => again.once('message', r)); // listening
      expect((await m.infer(...window())).probability).toBeLessThan(0.5);
    } finally {
      again.kill('SIGKILL');
      await m.close();
    }
  });
});
