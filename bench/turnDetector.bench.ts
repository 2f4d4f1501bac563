/**
 * End-of-turn model costs on this machine, with the tiny Smart Turn-shaped test models (test/helpers/onnxModel.ts;
 * a real Smart Turn model adds its own inference time on top, typically 10–100 ms):
 * - logMel: one Whisper log-mel of an 8 s window (80 × 800), on the calling thread, p50/p95 ms.
 * - perInference: one prediction as the session sees it (main thread → inference thread → answer), p50/p95 ms,
 *   and its parts measured inside the thread (features, model), for both model signatures.
 * - perSessionSecond: a 120 s conversation (the speech fixture looped, 0.6 s pauses) fed through the session's
 *   recent-audio ring with a prediction at every pause: process CPU ms per second of session (all threads).
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { AudioFrame } from '../src/audio/frame.ts';
import { readWav } from '../src/audio/wav.ts';
import { OnnxTurnDetector } from '../src/plugins/turn-detector/index.ts';
import { lastWindow, whisperLogMel } from '../src/plugins/turn-detector/logMel.ts';
import { RecentAudio, recordRecentAudio } from '../src/turn/recentAudio.ts';
import { rawAudioModel, whisperShapedModel, writeModel } from '../test/helpers/onnxModel.ts';
import { round, summary } from './lib/stats.ts';

async function speechFrames(): Promise<AudioFrame[]> {
  const fixture = new URL('../test/fixtures/speech-16k.wav', import.meta.url).pathname;
  return lastValueFrom(readWav(fixture, { frameMs: 20 }).pipe(toArray()));
}

const floats = (frames: AudioFrame[]) => {
  const out = new Float32Array(frames.reduce((n, f) => n + f.data.length, 0));
  let o = 0;
  for (const f of frames) for (const s of f.data) out[o++] = s / 32768;
  return out;
};

function logMelCost(window: Float32Array, runs: number) {
  for (let i = 0; i < 3; i++) whisperLogMel(window); // warm
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    whisperLogMel(window);
    ms.push(performance.now() - t);
  }
  const s = summary(ms);
  return { runs, p50Ms: s.p50, p95Ms: s.p95 };
}

async function inferenceCost(d: OnnxTurnDetector, audio: Float32Array, runs: number) {
  for (let i = 0; i < 3; i++) await d.predictAudio(audio);
  const wall: number[] = [];
  const features: number[] = [];
  const model: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await d.predictAudio(audio);
    wall.push(performance.now() - t);
    features.push(r.featuresMs);
    model.push(r.inferenceMs);
  }
  const w = summary(wall);
  return { model: d.modelInput, runs, p50Ms: w.p50, p95Ms: w.p95, insideThread: { featuresP50Ms: summary(features).p50, modelP50Ms: summary(model).p50 } };
}

async function perSessionSecond(d: OnnxTurnDetector, speech: AudioFrame[], seconds: number) {
  const pause = Array.from({ length: 30 }, () => new AudioFrame(new Int16Array(320), 16000, 1, 320));
  const frames: AudioFrame[] = [];
  while (frames.length * 20 < seconds * 1000) frames.push(...speech, ...pause);
  frames.length = (seconds * 1000) / 20;
  const ring = new RecentAudio();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let predictions = 0;
  let silentFrames = 0;
  const pending: Promise<unknown>[] = [];
  await new Promise<void>((resolve) =>
    recordRecentAudio(from(frames), ring).subscribe({
      next: (f) => {
        // A pause begins after 300 ms of silence, as a VAD would report it: the detector is asked then.
        silentFrames = f.data.every((s) => s === 0) ? silentFrames + 1 : 0;
        if (silentFrames === 15) {
          predictions++;
          pending.push(d.predictEndOfTurn('', { audio: ring.snapshot() }));
        }
      },
      complete: () => resolve(),
    }),
  );
  await Promise.all(pending);
  const cpu = process.cpuUsage(c0);
  return {
    model: d.modelInput,
    sessionSeconds: seconds,
    predictions,
    wallMs: round(performance.now() - t0, 1),
    cpuMsPerSessionSecond: round((cpu.user + cpu.system) / 1000 / seconds),
  };
}

export default async function () {
  const speech = await speechFrames();
  const window = lastWindow(floats(speech));
  const features = await OnnxTurnDetector.load({ modelPath: writeModel(whisperShapedModel(3, 2), 'bench-features') });
  const raw = await OnnxTurnDetector.load({ modelPath: writeModel(rawAudioModel(20, -1), 'bench-audio') });
  try {
    return {
      logMel: logMelCost(window, 30),
      perInference: [await inferenceCost(features, window, 30), await inferenceCost(raw, window, 30)],
      perSessionSecond: [await perSessionSecond(features, speech, 120), await perSessionSecond(raw, speech, 120)],
    };
  } finally {
    await Promise.all([features.close(), raw.close()]);
  }
}
