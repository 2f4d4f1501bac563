/** Which video frames are kept for the LLM: at most one per interval, the interval set by whether the user speaks. */

export interface VideoFrameInfo {
  width: number;
  height: number;
  /** Epoch ms the frame arrived. */
  receivedAt: number;
}

/** Decides, frame by frame, whether to keep a frame. `userSpeaking` is the session's user state. */
export type VideoSampler = (frame: VideoFrameInfo, ctx: { userSpeaking: boolean }) => boolean;

/**
 * LiveKit's default sampler: about 1 frame per second while the user speaks, about 0.3 while silent. The first
 * frame is always kept, so the LLM has a picture from the start.
 */
export class VoiceActivityVideoSampler {
  private last: number | null = null;
  constructor(readonly opts: { speakingFps?: number; silentFps?: number } = {}) {
    for (const [k, v] of Object.entries({ speakingFps: opts.speakingFps ?? 1, silentFps: opts.silentFps ?? 0.3 })) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${k} must be a positive number, got ${String(v)}`);
    }
  }

  readonly sample: VideoSampler = (frame, { userSpeaking }) => {
    const fps = userSpeaking ? (this.opts.speakingFps ?? 1) : (this.opts.silentFps ?? 0.3);
    if (this.last !== null && frame.receivedAt - this.last < 1000 / fps) return false;
    this.last = frame.receivedAt;
    return true;
  };
}

/** `videoSampler` as the session takes it: undefined (the default sampler), a sampler function, or null (no video). */
export function resolveVideoSampler(s: VideoSampler | VoiceActivityVideoSampler | null | undefined): VideoSampler | null {
  if (s === null) return null;
  if (s === undefined) return new VoiceActivityVideoSampler().sample;
  if (s instanceof VoiceActivityVideoSampler) return s.sample;
  if (typeof s !== 'function') throw new TypeError('videoSampler must be a function, a VoiceActivityVideoSampler or null');
  return s;
}
