import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AudioFormatError, AudioFrame } from '../src/audio/frame.ts';
import { floatToInt16, gain, levelMeter, rechunk, toMono } from '../src/audio/operators.ts';
import { encodeWav, readWav, wavHeader, WavWriter, type WavInfo } from '../src/audio/wav.ts';

const frames = (rate: number, n: number, per: number, ch = 1) =>
  Array.from({ length: n }, (_, k) => new AudioFrame(Int16Array.from({ length: per * ch }, (_, i) => (k * per * ch + i) % 1000), rate, ch, per));
const all = (fs: AudioFrame[]) => fs.flatMap((f) => [...f.data]);
const read = (src: Parameters<typeof readWav>[0], opts = {}) => lastValueFrom(readWav(src, opts).pipe(toArray()));

describe('WAV', () => {
  it('round-trips through encodeWav/readWav and WavWriter, in frames of the requested length', async () => {
    const input = frames(16000, 10, 160);
    const out = await read(encodeWav(input), { frameMs: 20 });
    expect(out.every((f) => f.sampleRate === 16000)).toBe(true);
    expect(out.map((f) => f.samplesPerChannel)).toEqual([320, 320, 320, 320, 320]);
    expect(all(out)).toEqual(all(input));
    const path = join(mkdtempSync(join(tmpdir(), 'vc-wav-')), 'x.wav');
    const w = new WavWriter(path);
    input.forEach((f) => w.write(f));
    w.close();
    expect(all(await read(path))).toEqual(all(input));
    expect(() => w.close()).not.toThrow();
  });

  it('reads streams whose header has a placeholder length, across arbitrary byte chunks, ignoring trailing chunks', async () => {
    const input = frames(22050, 5, 441);
    const pcm = encodeWav(input).slice(44);
    const header = wavHeader(22050, 1, 0x7ffff000);
    const bytes = new Uint8Array([...header, ...pcm]);
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 37) yield bytes.slice(i, i + 37);
    }
    expect(all(await read(chunks()))).toEqual(all(input));
    // A correct length followed by a LIST chunk: the chunk is not audio.
    const list = new Uint8Array([...new TextEncoder().encode('LIST'), 4, 0, 0, 0, 1, 2, 3, 4]);
    const withList = new Uint8Array([...encodeWav(input), ...list]);
    expect(all(await read(withList))).toEqual(all(input));
  });

  it('converts 24-bit PCM and float32 to 16 bits', async () => {
    const info: WavInfo[] = [];
    const mk = (format: number, bits: number, samples: number[], write: (v: DataView, o: number, x: number) => void) => {
      const width = bits / 8;
      const b = new Uint8Array(44 + samples.length * width);
      b.set(wavHeader(8000, 1, samples.length * width));
      const v = new DataView(b.buffer);
      v.setUint16(20, format, true);
      v.setUint16(34, bits, true);
      samples.forEach((x, i) => write(v, 44 + i * width, x));
      return b;
    };
    const s24 = mk(1, 24, [0x123456, -0x123456], (v, o, x) => {
      v.setUint8(o, x & 0xff);
      v.setUint8(o + 1, (x >> 8) & 0xff);
      v.setInt8(o + 2, x >> 16);
    });
    expect(all(await read(s24, { onInfo: (i: WavInfo) => info.push(i) }))).toEqual([0x1234, -0x1235]);
    expect(info[0]).toMatchObject({ sampleRate: 8000, bitsPerSample: 24 });
    const f32 = mk(3, 32, [0.5, -1, 2], (v, o, x) => v.setFloat32(o, x, true));
    expect(all(await read(f32))).toEqual([16384, -32767, 32767]);
    const nan = mk(3, 32, [0.1, NaN], (v, o, x) => v.setFloat32(o, x, true));
    await expect(read(nan)).rejects.toThrow(/sample 1 is NaN/);
  });

  it('bad input gives clear AudioFormatErrors: not RIFF, truncated header, odd byte count, absurd rate', async () => {
    await expect(read(new TextEncoder().encode('hello world, no wav here'))).rejects.toThrow(/not a WAV file/);
    await expect(read(encodeWav(frames(16000, 1, 160)).slice(0, 30))).rejects.toThrow(/truncated WAV/);
    const odd = new Uint8Array([...wavHeader(16000, 1, 0xffffffff), 1, 0, 2, 0, 3]);
    expect(all(await read(odd))).toEqual([1, 2]); // the stray last byte is dropped
    const absurd = encodeWav(frames(16000, 1, 160));
    new DataView(absurd.buffer).setUint32(24, 5, true);
    await expect(read(absurd)).rejects.toBeInstanceOf(AudioFormatError);
  });

  it.skipIf(spawnSync('espeak-ng', ['--version']).status !== 0)('reads espeak-ng --stdout output (placeholder length) to its end', async () => {
    const r = spawnSync('espeak-ng', ['--stdout', 'hello world'], { maxBuffer: 10 << 20 });
    const out = await read(new Uint8Array(r.stdout));
    const samples = out.reduce((n, f) => n + f.samplesPerChannel, 0);
    expect(out[0]!.sampleRate).toBe(22050);
    expect(samples).toBe(Math.floor((r.stdout.length - 44) / 2));
  });
});

describe('frame operators', () => {
  it('rechunk cuts exact frames and flushes the rest; toMono averages; gain clips; levelMeter measures', async () => {
    const re = await lastValueFrom(from(frames(16000, 3, 250)).pipe(rechunk(20), toArray()));
    expect(re.map((f) => f.samplesPerChannel)).toEqual([320, 320, 110]);
    const stereo = new AudioFrame(Int16Array.from([100, 300, -100, -300]), 16000, 2, 2);
    const mono = await lastValueFrom(from([stereo]).pipe(toMono()));
    expect([...mono.data]).toEqual([200, -200]);
    const loud = await lastValueFrom(from([new AudioFrame(Int16Array.from([20000, -20000, 100]), 16000, 1, 3)]).pipe(gain(6)));
    expect([...loud.data]).toEqual([32767, -32768, 200]);
    const full = new AudioFrame(Int16Array.from({ length: 160 }, (_, i) => (i % 2 ? 32767 : -32767)), 16000, 1, 160);
    const lv = await lastValueFrom(from([full, new AudioFrame(new Int16Array(160), 16000, 1, 160)]).pipe(levelMeter(), toArray()));
    expect(lv[0]!.dbfs).toBeCloseTo(0, 0);
    expect(lv[1]!.dbfs).toBe(-Infinity);
    expect(() => floatToInt16(Float32Array.from([0, Infinity]))).toThrow(/sample 1 is Infinity/);
    expect([...floatToInt16(Float32Array.from([0.5, -2]))]).toEqual([16384, -32767]);
  });

  it('frames with inconsistent sizes or rates are rejected at construction', () => {
    expect(() => new AudioFrame(new Int16Array(3), 16000, 2, 2)).toThrow(/expected 2 × 2/);
    expect(() => new AudioFrame(new Int16Array(2), 0, 1, 2)).toThrow(/invalid sample rate/);
  });
});

describe('interop with @livekit/rtc-node', () => {
  it('frames pass both ways without copying samples', async () => {
    const rtc = await import('@livekit/rtc-node');
    const theirs = new rtc.AudioFrame(new Int16Array([1, 2, 3, 4]), 16000, 2, 2);
    const ours = AudioFrame.from(theirs);
    expect(ours.data).toBe(theirs.data);
    expect([ours.sampleRate, ours.channels, ours.samplesPerChannel]).toEqual([16000, 2, 2]);
    const back = new rtc.AudioFrame(ours.data, ours.sampleRate, ours.channels, ours.samplesPerChannel);
    expect(back.data).toBe(ours.data);
  });
});
