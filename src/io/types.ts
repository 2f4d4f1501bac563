/** Session I/O channels. A channel is plain object logic; the session wraps each in an actor. */
import type { Observable } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';

export interface PlaybackStartedEvent {
  type: 'playback_started';
  /** Epoch ms at which the first frame of the segment started playing. */
  createdAt: number;
}

export interface PlaybackFinishedEvent {
  type: 'playback_finished';
  /** How much of the segment was heard, ms. */
  playbackPosition: number;
  interrupted: boolean;
  /** Text heard so far when a transcript synchroniser sits in front of the output; undefined otherwise. */
  synchronizedTranscript?: string;
}

export type PlaybackEvent = PlaybackStartedEvent | PlaybackFinishedEvent;

/**
 * Where agent audio goes. Frames of one segment are captured, then `flush()` ends the segment;
 * the output reports `playback_started` at the first audible frame and exactly one `playback_finished`
 * per segment that received at least one frame (after the audio played, or at once on `clearBuffer()`).
 */
export interface AudioOutput {
  readonly label: string;
  /** Sample rate the output wants; the session resamples TTS audio to it. Undefined: any rate. */
  readonly sampleRate?: number;
  readonly canPause: boolean;
  readonly events$: Observable<PlaybackEvent>;
  captureFrame(frame: AudioFrame): void;
  flush(): void;
  clearBuffer(): void;
  pause(): void;
  resume(): void;
  close?(): void;
}

/** Where agent transcription text goes (a terminal, a LiveKit text stream...). */
export interface TextOutput {
  readonly label: string;
  captureText(text: string): void;
  /** false: the session hands text on as soon as it exists instead of pacing it to playout. Default true. */
  readonly syncToPlayout?: boolean;
  /** Multiplies the pace of synced text (1 = as spoken). Default 1. */
  readonly speedFactor?: number;
  /** End of one segment's text. */
  flush(): void;
}

/** Audio input is any stream of frames; set `session.input.audio` to attach it. */
export type AudioInput = Observable<AudioFrame>;
