/**
 * One block of 16-bit PCM audio, interleaved when multi-channel.
 * Field names match `@livekit/rtc-node`'s `AudioFrame`, so frames pass between the two without copying.
 */
export class AudioFrame {
  constructor(
    readonly data: Int16Array,
    readonly sampleRate: number,
    readonly channels: number,
    readonly samplesPerChannel: number,
    /** Optional per-frame annotations (e.g. TTS word timings); never inspected by the audio path. */
    readonly userdata: Record<string, unknown> = {},
  ) {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new AudioFormatError(`invalid sample rate: ${sampleRate}`);
    if (!Number.isInteger(channels) || channels <= 0) throw new AudioFormatError(`invalid channel count: ${channels}`);
    if (data.length !== channels * samplesPerChannel) {
      throw new AudioFormatError(
        `frame data holds ${data.length} samples, expected ${channels} × ${samplesPerChannel} = ${channels * samplesPerChannel}`,
      );
    }
  }

  /** Duration in milliseconds. */
  get durationMs(): number {
    return (this.samplesPerChannel / this.sampleRate) * 1000;
  }

  static silence(sampleRate: number, channels: number, durationMs: number): AudioFrame {
    const n = Math.round((sampleRate * durationMs) / 1000);
    return new AudioFrame(new Int16Array(n * channels), sampleRate, channels, n);
  }

  /** Accepts any object shaped like an AudioFrame (e.g. rtc-node's) without copying its samples. */
  static from(f: { data: Int16Array; sampleRate: number; channels: number; samplesPerChannel: number }): AudioFrame {
    return f instanceof AudioFrame ? f : new AudioFrame(f.data, f.sampleRate, f.channels, f.samplesPerChannel);
  }
}

/** Raised (or emitted as an error event) for audio that cannot be interpreted. */
export class AudioFormatError extends Error {
  override name = 'AudioFormatError';
}
