import { Subject } from 'rxjs';
import type { AudioFrame } from '../audio/frame.ts';
import type { AudioOutput, PlaybackEvent } from '../io/types.ts';

/**
 * An audio output that "plays" in real or virtual time: a segment starts at its first frame, lasts as long as
 * its audio, can be paused (when `canPause`) and cleared. It records what was played for assertions.
 */
export class FakeAudioOutput implements AudioOutput {
  readonly label: string = 'fake-audio-output';
  readonly events$ = new Subject<PlaybackEvent>();
  readonly canPause: boolean;
  readonly sampleRate?: number;
  /** One entry per finished segment. */
  readonly segments: Array<{ pushedMs: number; playedMs: number; interrupted: boolean; startedAt: number }> = [];
  private pushedMs = 0;
  private startedAt: number | null = null;
  private flushed = false;
  private pausedAt: number | null = null;
  private pausedTotal = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** playback_started was reported for the current segment. */
  private announced = false;
  pauseCount = 0;

  constructor(opts: { canPause?: boolean; sampleRate?: number } = {}) {
    this.canPause = opts.canPause ?? false;
    this.sampleRate = opts.sampleRate;
  }

  get playing(): boolean {
    return this.startedAt !== null;
  }
  get paused(): boolean {
    return this.pausedAt !== null;
  }

  captureFrame(frame: AudioFrame): void {
    if (this.startedAt === null) {
      this.startedAt = Date.now();
      this.pushedMs = 0;
      this.flushed = false;
      this.pausedTotal = 0;
      this.announced = false;
      if (this.pausedAt !== null) this.pausedAt = this.startedAt;
      // A paused output has played nothing yet: playback starts at the first audible frame, on resume.
      else this.announceStart(this.startedAt);
    }
    this.pushedMs += frame.durationMs;
    this.reschedule();
  }

  private announceStart(at: number): void {
    if (this.announced) return;
    this.announced = true;
    this.events$.next({ type: 'playback_started', createdAt: at });
  }

  flush(): void {
    if (this.startedAt === null) return;
    this.flushed = true;
    this.reschedule();
  }

  clearBuffer(): void {
    if (this.startedAt === null) return;
    this.finish(true);
  }

  pause(): void {
    if (!this.canPause) throw new Error('this audio output cannot pause');
    if (this.pausedAt !== null) return;
    this.pauseCount++;
    this.pausedAt = Date.now();
    this.clearTimer();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    if (this.startedAt !== null) this.pausedTotal += Date.now() - Math.max(this.pausedAt, this.startedAt);
    this.pausedAt = null;
    if (this.startedAt !== null) this.announceStart(Date.now());
    this.reschedule();
  }

  close(): void {
    this.clearTimer();
  }

  /** ms of the current segment heard so far. */
  position(): number {
    if (this.startedAt === null) return 0;
    const end = this.pausedAt ?? Date.now();
    return Math.min(this.pushedMs, Math.max(0, end - this.startedAt - this.pausedTotal));
  }

  private reschedule(): void {
    this.clearTimer();
    if (!this.flushed || this.startedAt === null || this.pausedAt !== null) return;
    const remaining = this.pushedMs - this.position();
    this.timer = setTimeout(() => this.finish(false), Math.max(0, remaining));
  }

  private finish(interrupted: boolean): void {
    const played = interrupted ? this.position() : this.pushedMs;
    this.segments.push({ pushedMs: this.pushedMs, playedMs: played, interrupted, startedAt: this.startedAt! });
    this.clearTimer();
    this.startedAt = null;
    this.pushedMs = 0;
    this.flushed = false;
    this.events$.next({ type: 'playback_finished', playbackPosition: played, interrupted });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
