import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { OnnxTurnDetector } from '../src/plugins/turn-detector/index.ts';
import { lastWindow, normalizeWindow, whisperLogMel } from '../src/plugins/turn-detector/logMel.ts';
import { detectSignature } from '../src/plugins/turn-detector/signature.ts';
import { rawAudioModel, throwingModel, unrelatedModel, whisperShapedModel, writeModel } from './helpers/onnxModel.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
/** A 220 Hz tone of `seconds`, amplitude 0.3. */
const tone = (seconds: number) => Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000));

const open: OnnxTurnDetector[] = [];
const load = async (...a: Parameters<typeof OnnxTurnDetector.load>) => {
  const d = await OnnxTurnDetector.load(...a);
  open.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
});

describe('the test models themselves', () => {
  it('onnxruntime-node loads both encoded signatures and computes what they say', async () => {
    const s = await ort.InferenceSession.create(writeModel(whisperShapedModel(2, 0.5)));
    expect(s.inputNames).toEqual(['input_features']);
    const out = await s.run({ input_features: new ort.Tensor('float32', new Float32Array(64000).fill(-1.5), [1, 80, 800]) });
    expect(out.probs!.data[0]).toBeCloseTo(sigmoid(2 * -1.5 + 0.5), 6);
    const r = await ort.InferenceSession.create(writeModel(rawAudioModel(10, -1)));
    const x = new Float32Array(128000).fill(0.5);
    expect((await r.run({ audio: new ort.Tensor('float32', x, [1, 128000]) })).probs!.data[0]).toBeCloseTo(sigmoid(10 * 0.25 - 1), 5);
  });
});

describe('Smart Turn signature detection', () => {
  it('accepts both exports, with a fixed or symbolic batch', () => {
    expect(detectSignature([{ name: 'input_features', isTensor: true, type: 'float32', shape: [1, 80, 800] }])).toBe('input_features');
    expect(detectSignature([{ name: 'audio', isTensor: true, type: 'float32', shape: ['batch', 128000] }])).toBe('audio');
  });
  it('refuses other shapes, names and types, naming what the model has', () => {
    expect(() => detectSignature([{ name: 'input_features', isTensor: true, type: 'float32', shape: [1, 80, 3000] }])).toThrow(/input_features float32\[1,80,3000\]/);
    expect(() => detectSignature([{ name: 'audio', isTensor: true, type: 'int16', shape: [1, 128000] }])).toThrow(/not a Smart Turn-shaped model/);
    expect(() => detectSignature([{ name: 'x', isTensor: true, type: 'float32', shape: [1, 4] }])).toThrow(/the model has x float32\[1,4\]/);
  });
});

describe('OnnxTurnDetector', () => {
  it('input_features model: gets the log-mel of the (normalised, left-padded) last 8 s', async () => {
    const d = await load({ modelPath: writeModel(whisperShapedModel(3, 2)) });
    expect(d.modelInput).toBe('input_features');
    expect(d.input).toBe('audio');
    const audio = tone(2);
    const p = await d.predictEndOfTurn('', { audio });
    expect(p).toBeCloseTo(sigmoid(3 * mean(whisperLogMel(normalizeWindow(lastWindow(audio)))) + 2), 5);
    // Silence gives a different answer: the model really sees the features.
    const q = await d.predictEndOfTurn('', { audio: new Float32Array(16000) });
    expect(q).toBeCloseTo(sigmoid(3 * -1.5 + 2), 5);
    expect(d.stats.predictions).toBe(2);
  });

  it('audio model: gets the raw last 8 s, newest samples last; normalisation can be turned off', async () => {
    const d = await load({ modelPath: writeModel(rawAudioModel(20, -1)), normalizeAudio: false });
    expect(d.modelInput).toBe('audio');
    // 10 s: silence, then 1 s of tone at the end (the model averages the energy of the last 1600 samples).
    const audio = new Float32Array(160000);
    audio.set(tone(1), 144000);
    const tail = audio.subarray(160000 - 1600);
    const energy = tail.reduce((s, v) => s + v * v, 0) / 1600;
    expect(await d.predictEndOfTurn('', { audio })).toBeCloseTo(sigmoid(20 * energy - 1), 4);
    // The same tone followed by 0.5 s of silence: the tail is silent.
    const paused = new Float32Array(24000);
    paused.set(tone(1));
    expect(await d.predictEndOfTurn('', { audio: paused })).toBeCloseTo(sigmoid(-1), 5);
  });

  it('predictions stay in order under concurrency and the caller keeps its array', async () => {
    const d = await load({ modelPath: writeModel(rawAudioModel(20, -1)), normalizeAudio: false });
    const loud = new Float32Array(1600).fill(0.5);
    const quiet = new Float32Array(1600);
    const ps = await Promise.all([loud, quiet, loud, quiet].map((a) => d.predictAudio(a)));
    expect(ps.map((p) => Number(p.probability.toFixed(4)))).toEqual([sigmoid(4), sigmoid(-1), sigmoid(4), sigmoid(-1)].map((v) => Number(v.toFixed(4))));
    expect(loud[0]).toBe(0.5);
  });

  it('bad model files are clear errors', async () => {
    await expect(OnnxTurnDetector.load({ modelPath: join(tmpdir(), 'no-such-model.onnx') })).rejects.toThrow(/turn detector model not found: .*no-such-model\.onnx/);
    const junk = join(tmpdir(), `voicechart-junk-${process.pid}.onnx`);
    writeFileSync(junk, 'this is not a protobuf');
    await expect(OnnxTurnDetector.load({ modelPath: junk })).rejects.toThrow(/cannot use .*junk.* as a turn detector/);
    await expect(OnnxTurnDetector.load({ modelPath: writeModel(unrelatedModel()) })).rejects.toThrow(/not a Smart Turn-shaped model.*x float32\[1,4\]/);
    await expect(OnnxTurnDetector.load({ modelPath: tmpdir() })).rejects.toThrow(/not a file/);
    await expect(OnnxTurnDetector.load({ modelPath: writeModel(rawAudioModel(1, 0)), unlikelyThreshold: 2 })).rejects.toThrow(/unlikelyThreshold/);
  });

  it('a model that throws fails that prediction with the runtime message; the thread lives on', async () => {
    const d = await load({ modelPath: writeModel(throwingModel()) });
    await expect(d.predictAudio(new Float32Array(100))).rejects.toThrow(/inference failed: .*reshape/i);
    await expect(d.predictAudio(new Float32Array(100))).rejects.toThrow(/inference failed/);
  });

  it('a dead inference thread fails pending and later predictions at once, saying why', async () => {
    const d = await load({ modelPath: writeModel(rawAudioModel(1, 0)) });
    // The thread is told to exit (as a crash would) before it sees the prediction: the prediction is never answered.
    const exited = d._exitThread(3);
    const pending = d.predictAudio(new Float32Array(128000));
    await exited;
    await expect(pending).rejects.toThrow(/inference thread exited unexpectedly \(code 3\)/);
    await expect(d.predictAudio(new Float32Array(10))).rejects.toThrow(/inference thread exited unexpectedly/);
  });

  it('close() ends the thread; later predictions say it was closed', async () => {
    const d = await OnnxTurnDetector.load({ modelPath: writeModel(rawAudioModel(1, 0)) });
    await d.close();
    expect(d._worker.threadId).toBe(-1);
    await expect(d.predictAudio(new Float32Array(10))).rejects.toThrow(/was closed/);
  });

  it('close() during a prediction lets the model call finish, then the thread exits by itself (no terminate)', async () => {
    const d = await OnnxTurnDetector.load({ modelPath: writeModel(rawAudioModel(1, 0)) });
    const terminate = vi.spyOn(d._worker, 'terminate');
    const exitCode = new Promise<number>((res) => d._worker.once('exit', res));
    const pending = expect(d.predictAudio(new Float32Array(128000))).rejects.toThrow(/was closed/);
    await d.close();
    expect(await exitCode).toBe(0);
    expect(terminate).not.toHaveBeenCalled();
    await pending;
  });
});
