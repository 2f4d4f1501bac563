/**
 * What the worker's inference host (thread: 'shared') costs per window as the streams it serves grow: N streams of
 * 20 ms frames paced at real time, their starts spread over one 32 ms window (as rooms' audio arrives), each on its
 * own connection as each job process has one. The clients run in this process; only the host's CPU is counted
 * (from /proc), with its model calls per window: windows that arrive while a call runs join the next one.
 */
import { from, lastValueFrom, switchMap, timer, toArray } from 'rxjs';
import { paceRealTime } from '../../src/audio/operators.ts';
import type { AudioFrame } from '../../src/audio/frame.ts';
import { defaultModelPath, SileroVAD } from '../../src/plugins/silero/index.ts';
import { SileroSharedModel } from '../../src/plugins/silero/sharedModel.ts';
import { SharedInference } from '../../src/worker/sharedInference.ts';
import { silentLogger } from '../../src/worker/log.ts';
import { processCpuMs } from './procCpu.ts';
import { round } from './stats.ts';
import { waitFor } from '../../test/helpers/waitFor.ts';

async function atStreams(host: SharedInference, pid: number, streams: number, frames: AudioFrame[]) {
  const models = await Promise.all(Array.from({ length: streams }, () => SileroSharedModel.load(host.socketPath, defaultModelPath())));
  try {
    const cpu0 = processCpuMs(pid)!;
    const paced = (k: number) => timer((k * 32) / streams).pipe(switchMap(() => from(frames).pipe(paceRealTime())));
    await Promise.all(models.map((m, k) => lastValueFrom(SileroVAD.over(m).stream(paced(k)).pipe(toArray()))));
    const hostMs = processCpuMs(pid)! - cpu0;
    const runs = models.reduce((n, m) => n + m.stats.runs, 0);
    const windows = models.reduce((n, m) => n + m.stats.windows, 0);
    const sessionSeconds = (frames.length * 20 * streams) / 1000;
    return {
      streams,
      modelCallsPerWindow: round(runs / windows, 3),
      hostCpuMsPerWindow: round(hostMs / windows, 3),
      hostCpuMsPerSessionSecond: round(hostMs / sessionSeconds, 1),
    };
  } finally {
    await Promise.all(models.map((m) => m.close()));
  }
}

export async function sharedHostCost(frames: AudioFrame[], counts = [1, 8, 32, 64]) {
  const host = new SharedInference(silentLogger);
  try {
    const pid = await waitFor(() => host.pid, 10_000, 'the inference host listening');
    await atStreams(host, pid, 2, frames.slice(0, 50)); // the host loads onnxruntime and the model
    const out = [];
    for (const n of counts) out.push(await atStreams(host, pid, n, frames));
    return out;
  } finally {
    host.close();
  }
}
