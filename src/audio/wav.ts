/**
 * WAV files as frame streams. The reader is streaming and tolerant of what real encoders write: the placeholder
 * data length of streaming encoders (`espeak-ng --stdout` writes 0x7ffff000), unknown chunks, odd trailing bytes.
 * It accepts 16-bit PCM and converts 24/32-bit PCM and 32-bit float to 16 bits.
 */
import { createReadStream, closeSync, openSync, writeSync } from 'node:fs';
import { Observable } from 'rxjs';
import { AudioFormatError, AudioFrame } from './frame.ts';

export interface WavInfo {
  sampleRate: number;
  channels: number;
  /** 1 = PCM, 3 = IEEE float. */
  format: number;
  bitsPerSample: number;
}

const PLACEHOLDERS = new Set([0, 0x7ffff000, 0xffffffff, 0x7fffffff]);

type Source = string | Uint8Array | AsyncIterable<Uint8Array>;

async function* bytesOf(source: Source): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') yield* createReadStream(source) as AsyncIterable<Buffer>;
  else if (source instanceof Uint8Array) yield source;
  else yield* source;
}

/** Streams a WAV file/buffer/byte stream as frames of `frameMs` (the last may be shorter). `onInfo` gets the format. */
export function readWav(source: Source, opts: { frameMs?: number; onInfo?: (info: WavInfo) => void } = {}): Observable<AudioFrame> {
  const frameMs = opts.frameMs ?? 20;
  return new Observable<AudioFrame>((sub) => {
    let stopped = false;
    void (async () => {
      let buf = new Uint8Array(0);
      let info: WavInfo | null = null;
      let remaining = Infinity; // bytes of sample data left, when the header's length is trustworthy
      let frameBytes = 0;
      const append = (chunk: Uint8Array) => {
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
      };
      const emit = (bytes: Uint8Array) => {
        if (!info || !bytes.length) return;
        const data = toInt16(bytes, info);
        if (data.length >= info.channels) sub.next(new AudioFrame(data, info.sampleRate, info.channels, data.length / info.channels));
      };
      for await (const chunk of bytesOf(source)) {
        if (stopped) return;
        append(chunk);
        if (!info) {
          const h = parseHeader(buf);
          if (!h) continue;
          info = h.info;
          opts.onInfo?.(info);
          if (!PLACEHOLDERS.has(h.declaredLength)) remaining = h.declaredLength;
          buf = buf.slice(h.dataOffset);
          const bytesPerFrame = (info.bitsPerSample / 8) * info.channels;
          frameBytes = Math.max(1, Math.round((info.sampleRate * frameMs) / 1000)) * bytesPerFrame;
        }
        while (buf.length >= frameBytes && remaining > 0) {
          const take = Math.min(frameBytes, remaining);
          emit(buf.subarray(0, take));
          buf = buf.slice(take);
          remaining -= take;
        }
        if (remaining <= 0) break; // chunks after the data (LIST, id3…) are not audio
      }
      if (stopped) return;
      if (!info) throw new AudioFormatError(buf.length < 12 ? 'truncated WAV: no header' : 'truncated WAV: no data chunk');
      // A truncated last sample (odd byte count) is dropped, not misread.
      const bytesPerFrame = (info.bitsPerSample / 8) * info.channels;
      const rest = Math.min(buf.length, remaining);
      emit(buf.subarray(0, rest - (rest % bytesPerFrame)));
      sub.complete();
    })().catch((e) => !stopped && sub.error(e instanceof AudioFormatError ? e : new AudioFormatError(`cannot read WAV: ${(e as Error).message}`)));
    return () => {
      stopped = true;
    };
  });
}

function parseHeader(buf: Uint8Array): { info: WavInfo; dataOffset: number; declaredLength: number } | null {
  if (buf.length < 12) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new AudioFormatError('not a WAV file (no RIFF/WAVE header)');
  let off = 12;
  let info: WavInfo | null = null;
  while (off + 8 <= buf.length) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    if (id === 'fmt ') {
      if (off + 8 + 16 > buf.length) return null;
      let format = view.getUint16(off + 8, true);
      const channels = view.getUint16(off + 10, true);
      const sampleRate = view.getUint32(off + 12, true);
      const bits = view.getUint16(off + 22, true);
      if (format === 0xfffe && size >= 40 && off + 8 + 26 <= buf.length) format = view.getUint16(off + 8 + 24, true); // WAVE_FORMAT_EXTENSIBLE
      if (!(format === 1 && [16, 24, 32].includes(bits)) && !(format === 3 && bits === 32)) {
        throw new AudioFormatError(`unsupported WAV encoding: format ${format}, ${bits} bits (need PCM 16/24/32 or float 32)`);
      }
      if (!channels || channels > 8) throw new AudioFormatError(`unsupported channel count ${channels}`);
      if (sampleRate < 1000 || sampleRate > 384000) throw new AudioFormatError(`implausible sample rate ${sampleRate} Hz`);
      info = { sampleRate, channels, format, bitsPerSample: bits };
    } else if (id === 'data') {
      if (!info) throw new AudioFormatError('WAV data chunk before its fmt chunk');
      return { info, dataOffset: off + 8, declaredLength: size };
    }
    off += 8 + size + (size % 2);
  }
  return null;
}

function toInt16(bytes: Uint8Array, info: WavInfo): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = info.bitsPerSample / 8;
  const n = Math.floor(bytes.length / width);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * width;
    let v: number;
    if (info.format === 3) {
      const f = view.getFloat32(o, true);
      if (!Number.isFinite(f)) throw new AudioFormatError(`sample ${i} is ${f}: float audio must be finite`);
      v = Math.round(Math.max(-1, Math.min(1, f)) * 32767);
    } else if (width === 2) v = view.getInt16(o, true);
    else if (width === 3) v = ((bytes[o + 2]! << 24) | (bytes[o + 1]! << 16) | (bytes[o]! << 8)) >> 16;
    else v = view.getInt32(o, true) >> 16;
    out[i] = v;
  }
  return out;
}

/** A complete 16-bit PCM WAV file for these frames (all of one format). */
export function encodeWav(frames: AudioFrame[]): Uint8Array {
  const f0 = frames[0];
  const rate = f0?.sampleRate ?? 16000;
  const ch = f0?.channels ?? 1;
  const samples = frames.reduce((n, f) => {
    if (f.sampleRate !== rate || f.channels !== ch) throw new AudioFormatError('encodeWav: all frames must share one sample rate and channel count');
    return n + f.data.length;
  }, 0);
  const out = new Uint8Array(44 + samples * 2);
  out.set(wavHeader(rate, ch, samples * 2));
  let off = 44;
  for (const f of frames) {
    out.set(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength), off);
    off += f.data.byteLength;
  }
  return out;
}

export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const put = (o: number, s: string) => [...s].forEach((c, i) => (h[o + i] = c.charCodeAt(0)));
  put(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  put(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  put(36, 'data');
  v.setUint32(40, dataBytes, true);
  return h;
}

/** Writes frames to a WAV file as they come; the header's lengths are patched on close. */
export class WavWriter {
  private fd: number;
  private bytes = 0;
  private format: { rate: number; channels: number } | null = null;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, new Uint8Array(44));
  }
  write(frame: AudioFrame): void {
    this.format ??= { rate: frame.sampleRate, channels: frame.channels };
    if (frame.sampleRate !== this.format.rate || frame.channels !== this.format.channels) {
      throw new AudioFormatError(`${this.path}: frames must keep one format (${this.format.rate} Hz × ${this.format.channels}), got ${frame.sampleRate} Hz × ${frame.channels}`);
    }
    this.writeSamples(frame.data);
  }
  /** Interleaved samples in the file's format (the first frame fixed it). */
  writeSamples(data: Int16Array): void {
    const b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    writeSync(this.fd, b);
    this.bytes += b.length;
  }
  close(): void {
    if (this.fd < 0) return;
    writeSync(this.fd, wavHeader(this.format?.rate ?? 16000, this.format?.channels ?? 1, this.bytes), 0, 44, 0);
    closeSync(this.fd);
    this.fd = -1;
  }
}
