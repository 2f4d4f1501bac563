/**
 * Cold first turn: end of the user's first turn → first reply frame at the output, each in a fresh Node process
 * (bench/lib/coldTurnChild.ts), p50 over ≥ 10 processes per configuration, in VAD and in STT turn-detection mode.
 * - matched: the output asks for the TTS's rate (24 kHz): no resampling, the reply must not wait for the resampler
 * - resampled: the output asks for 48 kHz, with the resampler loaded lazily by the first frame (none), loaded in
 *   the background when the session starts (preload-start) or before the framework is imported (preload-module)
 * - warmup: `warmUp()` ran in the process before the session (a worker's prewarm)
 * startupMs (process start → session started, tsx compilation included) shows what each preload costs at startup.
 * Processes run one after the other. `COLD_TURN_RUNS` sets the processes per configuration (default 10).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { round, summary } from './lib/stats.ts';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./lib/coldTurnChild.ts', import.meta.url));

interface ChildResult {
  ms: number;
  startupMs: number;
  warmUpMs?: number;
}

async function once(mode: string, rate: number, prep: string): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, mode, String(rate), prep], { timeout: 30_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  if (!Number.isFinite(r.ms)) throw new Error(`cold turn (${mode}, ${rate} Hz, ${prep}): no reply audio within 5 s`);
  return r;
}

async function config(mode: string, rate: number, prep: string, runs: number) {
  const xs: ChildResult[] = [];
  for (let i = 0; i < runs; i++) xs.push(await once(mode, rate, prep));
  const median = (k: keyof ChildResult) => summary(xs.map((x) => x[k] ?? NaN)).p50;
  return {
    turn: summary(xs.map((x) => x.ms)),
    startupMsP50: round(median('startupMs'), 1),
    ...(prep === 'warmup' ? { warmUpMsP50: round(median('warmUpMs'), 1) } : {}),
  };
}

export default async function () {
  const runs = Math.max(1, Number(process.env.COLD_TURN_RUNS ?? 10));
  const out: Record<string, Record<string, unknown>> = {};
  for (const mode of ['vad', 'stt']) {
    out[mode] = {
      matched: await config(mode, 24000, 'none', runs),
      matchedWarmUp: await config(mode, 24000, 'warmup', runs),
      resampledLazy: await config(mode, 48000, 'none', runs),
      resampledPreloadAtStart: await config(mode, 48000, 'preload-start', runs),
      resampledPreloadAtModuleLoad: await config(mode, 48000, 'preload-module', runs),
      resampledWarmUp: await config(mode, 48000, 'warmup', runs),
    };
  }
  return { unit: 'ms', processesPerConfig: runs, ...out, targets: { firstTurnP50: 5 } };
}
