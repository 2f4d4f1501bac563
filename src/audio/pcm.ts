import { AudioFormatError, AudioFrame } from './frame.ts';

export interface WavFormat {
  sampleRate: number;
  channels: number;
  /** Byte offset of the PCM samples. */
  dataOffset: number;
  /** Declared data length; streaming encoders write a placeholder, so readers go to the end instead. */
  declaredLength: number;
}

/** Parses a RIFF/WAVE header holding 16-bit PCM; returns null while more bytes are needed. */
export function parseWavHeader(buf: Uint8Array): WavFormat | null {
  if (buf.length < 12) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new AudioFormatError('not a RIFF/WAVE stream');
  let off = 12;
  let fmt: { rate: number; channels: number } | null = null;
  while (off + 8 <= buf.length) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    if (id === 'fmt ') {
      if (off + 8 + 16 > buf.length) return null;
      const format = view.getUint16(off + 8, true);
      const bits = view.getUint16(off + 22, true);
      if (format !== 1 || bits !== 16) throw new AudioFormatError(`unsupported WAV encoding (format ${format}, ${bits} bits): need 16-bit PCM`);
      fmt = { channels: view.getUint16(off + 10, true), rate: view.getUint32(off + 12, true) };
    } else if (id === 'data') {
      if (!fmt) throw new AudioFormatError('WAV data chunk before its fmt chunk');
      return { sampleRate: fmt.rate, channels: fmt.channels, dataOffset: off + 8, declaredLength: size };
    }
    off += 8 + size + (size % 2);
  }
  return null;
}

/** Cuts interleaved PCM into frames of `frameMs`; the last frame may be shorter. */
export function* framesOf(samples: Int16Array, sampleRate: number, channels: number, frameMs = 20): Generator<AudioFrame> {
  const per = Math.round((sampleRate * frameMs) / 1000) * channels;
  for (let i = 0; i < samples.length; i += per) {
    const chunk = samples.slice(i, Math.min(i + per, samples.length - (samples.length % channels)));
    if (chunk.length) yield new AudioFrame(chunk, sampleRate, channels, chunk.length / channels);
  }
}
