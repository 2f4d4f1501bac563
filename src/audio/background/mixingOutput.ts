import { Subject, type Subscription } from 'rxjs';
import type { AudioFrame } from '../frame.ts';
import type { AudioOutput, PlaybackEvent, PlaybackFinishedEvent, PlaybackStartedEvent } from '../../io/types.ts';
import type { BackgroundAudioEvent } from '../../../machines/backgroundAudio.ts';
import type { BackgroundMix } from './mix.ts';

export interface MixingOutputOptions {
  /** ms of background kept queued ahead of real time on the device. */
  leadMs: number;
  /** Where the output's calls and the device's events go: the `backgroundAudio` actor. */
  send(event: BackgroundAudioEvent): void;
  /** The session closed this output. */
  onClose(): void;
}

/**
 * The audio output the session sees while background audio plays: a thin facade over the `output` region of the
 * `backgroundAudio` machine. The agent's calls and the device's playback events become events; the machine's
 * actions (methods below) move frames. The agent's frames reach the device with the background added, sample for
 * sample, so the device's segment lengths and positions are the agent's own; between the agent's segments the
 * background is pumped in real time as a segment of its own, whose events are never forwarded.
 */
export class MixingAudioOutput implements AudioOutput {
  readonly label: string;
  readonly events$ = new Subject<PlaybackEvent>();
  /** Agent frames not yet handed to the device (held while the background segment finishes). */
  private pending: AudioFrame[] = [];
  private pump: ReturnType<typeof setInterval> | null = null;
  private readonly deviceEvents: Subscription;
  /** The device's current segment: when it became audible, and how much was handed to it (ms). */
  private deviceStartedAt: number | null = null;
  private devicePushedMs = 0;
  private lastStarted: PlaybackStartedEvent | null = null;
  private lastFinished: PlaybackFinishedEvent | null = null;
  private closed = false;

  constructor(
    readonly device: AudioOutput,
    readonly mix: BackgroundMix,
    private readonly opts: MixingOutputOptions,
  ) {
    this.label = `background-mix(${device.label})`;
    this.deviceEvents = device.events$.subscribe((ev) => {
      if (ev.type === 'playback_started') {
        this.deviceStartedAt = Date.now();
        this.lastStarted = ev;
        opts.send({ type: 'DEVICE_STARTED' });
      } else {
        this.deviceStartedAt = null;
        this.devicePushedMs = 0;
        this.lastFinished = ev;
        opts.send({ type: 'DEVICE_FINISHED' });
      }
    });
  }

  get sampleRate(): number | undefined {
    return this.device.sampleRate;
  }
  get canPause(): boolean {
    return this.device.canPause;
  }

  // ------------------------------------------------------------------ the agent's side (AudioOutput)

  captureFrame(frame: AudioFrame): void {
    this.pending.push(frame);
    this.opts.send({ type: 'AGENT_FRAME' });
  }
  flush(): void {
    this.opts.send({ type: 'AGENT_FLUSH' });
  }
  clearBuffer(): void {
    this.opts.send({ type: 'AGENT_CLEAR' });
  }
  pause(): void {
    this.device.pause();
  }
  resume(): void {
    this.device.resume();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPump();
    this.deviceEvents.unsubscribe();
    this.pending = [];
    this.device.close?.();
    this.opts.onClose();
  }

  // ------------------------------------------------------------------ the pump

  /** Starts the beat that keeps the background segment topped up (every half lead, at most every 20 ms). */
  startPump(): void {
    if (this.pump || this.closed) return;
    const every = Math.max(5, Math.min(20, this.opts.leadMs / 2));
    this.pump = setInterval(() => this.opts.send({ type: 'TICK', audible: this.mix.audible }), every);
    (this.pump as { unref?: () => void }).unref?.();
    this.opts.send({ type: 'TICK', audible: this.mix.audible });
  }
  stopPump(): void {
    if (this.pump) clearInterval(this.pump);
    this.pump = null;
  }

  // ------------------------------------------------------------------ the machine's actions

  /** Hands the device background until it holds `leadMs` more than it has played. */
  pushBackground(): void {
    const played = this.deviceStartedAt === null ? 0 : Date.now() - this.deviceStartedAt;
    const wantMs = played + this.opts.leadMs - this.devicePushedMs;
    const rate = this.mix.sampleRate;
    const n = Math.floor((wantMs * rate) / 1000);
    if (n <= 0) return;
    this.toDevice(this.mix.render(n));
  }

  passAgentFrames(): void {
    const frames = this.pending;
    this.pending = [];
    for (const f of frames) this.toDevice(this.mix.mixInto(f));
  }

  dropAgentFrames(): void {
    this.pending = [];
  }

  flushDevice(): void {
    this.device.flush();
  }

  clearDevice(): void {
    this.device.clearBuffer();
  }

  forwardStarted(): void {
    if (this.lastStarted) this.events$.next(this.lastStarted);
  }

  forwardFinished(): void {
    if (this.lastFinished) this.events$.next(this.lastFinished);
  }

  reportAgentCleared(): void {
    this.events$.next({ type: 'playback_finished', playbackPosition: 0, interrupted: true });
  }

  private toDevice(frame: AudioFrame): void {
    this.devicePushedMs += frame.durationMs;
    this.device.captureFrame(frame);
  }
}
