import { AudioFrame } from '../audio/frame.ts';
import { WavWriter } from '../audio/wav.ts';
import { FakeAudioOutput } from '../testing/fakeAudioOutput.ts';

/**
 * An audio output that plays on a real-time clock (no sound card needed) and records what was heard to a
 * 16-bit PCM WAV file: an interrupted segment is cut where playback stopped.
 */
export class WavRecordingOutput extends FakeAudioOutput {
  override readonly label: string = 'wav-recording';
  private readonly writer: WavWriter;
  private segment: AudioFrame[] = [];

  constructor(readonly path: string) {
    super({ canPause: true });
    this.writer = new WavWriter(path);
    this.events$.subscribe((ev) => {
      if (ev.type === 'playback_finished') this.writeHeard(ev.playbackPosition);
    });
  }

  override captureFrame(frame: AudioFrame): void {
    this.segment.push(frame);
    super.captureFrame(frame);
  }

  private writeHeard(positionMs: number): void {
    const first = this.segment[0];
    let left = first ? Math.round((first.sampleRate * positionMs) / 1000) : 0;
    for (const f of this.segment) {
      if (left <= 0) break;
      const n = Math.min(left, f.samplesPerChannel);
      if (n === f.samplesPerChannel) this.writer.write(f);
      else this.writer.write(new AudioFrame(f.data.subarray(0, n * f.channels), f.sampleRate, f.channels, n));
      left -= n;
    }
    this.segment = [];
  }

  override close(): void {
    super.close();
    this.writer.close();
  }
}
