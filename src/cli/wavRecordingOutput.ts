import { closeSync, openSync, writeSync } from 'node:fs';
import type { AudioFrame } from '../audio/frame.ts';
import { FakeAudioOutput } from '../testing/fakeAudioOutput.ts';

/**
 * An audio output that plays on a real-time clock (no sound card needed) and records what was heard to a
 * 16-bit PCM WAV file: an interrupted segment is cut where playback stopped.
 */
export class WavRecordingOutput extends FakeAudioOutput {
  override readonly label: string = 'wav-recording';
  private fd: number;
  private segment: AudioFrame[] = [];
  private format: { rate: number; channels: number } | null = null;
  private dataBytes = 0;

  constructor(readonly path: string) {
    super({ canPause: true });
    this.fd = openSync(path, 'w');
    writeSync(this.fd, Buffer.alloc(44)); // header written for real at close, when the length is known
    this.events$.subscribe((ev) => {
      if (ev.type === 'playback_finished') this.writeHeard(ev.playbackPosition);
    });
  }

  override captureFrame(frame: AudioFrame): void {
    this.format ??= { rate: frame.sampleRate, channels: frame.channels };
    if (frame.sampleRate !== this.format.rate || frame.channels !== this.format.channels) {
      throw new Error(`${this.path}: frames must keep one format (${this.format.rate} Hz × ${this.format.channels}), got ${frame.sampleRate} Hz × ${frame.channels}`);
    }
    this.segment.push(frame);
    super.captureFrame(frame);
  }

  private writeHeard(positionMs: number): void {
    let left = Math.round(((this.format?.rate ?? 0) * positionMs) / 1000);
    for (const f of this.segment) {
      if (left <= 0) break;
      const n = Math.min(left, f.samplesPerChannel);
      const bytes = Buffer.from(f.data.buffer, f.data.byteOffset, n * f.channels * 2);
      writeSync(this.fd, bytes);
      this.dataBytes += bytes.length;
      left -= n;
    }
    this.segment = [];
  }

  override close(): void {
    super.close();
    if (this.fd < 0) return;
    const rate = this.format?.rate ?? 16000;
    const ch = this.format?.channels ?? 1;
    const h = Buffer.alloc(44);
    h.write('RIFF', 0);
    h.writeUInt32LE(36 + this.dataBytes, 4);
    h.write('WAVEfmt ', 8);
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(ch, 22);
    h.writeUInt32LE(rate, 24);
    h.writeUInt32LE(rate * ch * 2, 28);
    h.writeUInt16LE(ch * 2, 32);
    h.writeUInt16LE(16, 34);
    h.write('data', 36);
    h.writeUInt32LE(this.dataBytes, 40);
    writeSync(this.fd, h, 0, 44, 0);
    closeSync(this.fd);
    this.fd = -1;
  }
}
