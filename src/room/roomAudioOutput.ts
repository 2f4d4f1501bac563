import {
  AudioFrame as RtcAudioFrame,
  AudioSource,
  LocalAudioTrack,
  type LocalTrackPublication,
  type Room,
  type TrackPublishOptions,
} from '@livekit/rtc-node';
import { Subject } from 'rxjs';
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { createRoomAudioOutputActor, type RoomAudioOutputActor } from '../../actors/roomAudioOutput.ts';
import { AudioFormatError, type AudioFrame } from '../audio/frame.ts';
import type { AudioOutput, PlaybackEvent } from '../io/types.ts';

export interface RoomAudioOutputOptions {
  sampleRate: number;
  numChannels: number;
  trackName: string;
  publishOptions: TrackPublishOptions;
  /**
   * The AudioSource's queue: how far ahead of playout the output may run. Default 200 ms; a multiple of 10 ms, at
   * least 10 (see checkQueueSize).
   */
  queueSizeMs?: number;
  /** A single capture taking longer than this ends the segment as failed. Default queue + 1000 ms. */
  captureStallMs?: number;
  /** The session's root actor: the output's actor becomes its child, in the session's system. */
  parent?: AnyActorRef;
  /** Observes the actor when it has no parent. */
  inspect?: Observer<InspectionEvent> | ((e: InspectionEvent) => void);
}

/**
 * Frames go to the source in pieces of this length. Positions stay exact (what went in minus what the source still
 * queues) and a clear is immediate (the source drops its queue; a piece in flight is dropped after it lands); the
 * length only sets how often the output and its actor work: 40 ms is half the captures, events and timers of 20 ms.
 */
const CHUNK_MS = 40;

/**
 * Why the output always has a native queue (`queueSizeMs` > 0), although that queue's source encodes 10 ms of
 * silence every 10 ms while the agent is quiet (rtc-ffi ≥ 0.12.49): a connected room with a quiet published track
 * costs ~30 ms of CPU per second queued and ~10 unqueued (`npm run bench -- rooms`, VC_BENCH_ROOM_SOURCE_MODES=1);
 * the difference is about a third of a room's agent CPU. With `queueSizeMs: 0` the native side keeps no queue and sends nothing between captures (each capture
 * must then be 10 ms, paced by the caller), but nothing marks the quiet time in the stream (RTP timestamps count
 * only the samples sent) and the receiving libwebrtc stretches each reply after a pause: a 600 ms tone paced from
 * JavaScript in 40 ms steps is heard as 720–760 ms (10 ms steps, or sending 40 ms ahead, as well: up to 1 s), against
 * 600 ms queued. The native library also aborts the process (an assertion) on a queue that is not a multiple of
 * 10 ms, so such values are refused here.
 */
/** The AudioSource queue when none is given: the most the output runs ahead of playout. */
export const DEFAULT_QUEUE_SIZE_MS = 200;

function checkQueueSize(ms: number): number {
  if (!(Number.isInteger(ms) && ms >= 10 && ms % 10 === 0)) {
    throw new RangeError(`room audio output: queueSizeMs must be a positive multiple of 10 ms (got ${ms}); 0, the native unqueued mode, makes receivers stretch the audio after each pause`);
  }
  return ms;
}

/**
 * The agent's voice as a published audio track. A thin facade over the `roomAudioOutput` actor: it keeps the
 * segment's frames, converts them to the track's format and reports playback; the actor decides when a segment
 * starts, drains, is cleared or has failed.
 */
export class RoomAudioOutput implements AudioOutput {
  readonly label = 'livekit-room-audio';
  readonly canPause = false;
  readonly sampleRate: number;
  readonly events$ = new Subject<PlaybackEvent>();
  /** Capture failures and rejected frames (the session turns them into `error` events). */
  readonly errors$ = new Subject<Error>();
  readonly actor: RoomAudioOutputActor;
  private readonly numChannels: number;
  private readonly queueSizeMs: number;
  private source: AudioSource | null = null;
  private publication: LocalTrackPublication | null = null;
  private published: Promise<LocalTrackPublication> | null = null;
  private queue: Array<{ frame: RtcAudioFrame; ms: number }> = [];
  private wake: (() => void) | null = null;
  private capturedMs = 0;
  /** Bumped by every clear: a capture that was in flight across a clear is dropped from the source again. */
  private generation = 0;
  /** The last capture handed to the source, settled once a stale one (from before a clear) was dropped again. */
  private landed: Promise<void> = Promise.resolve();

  constructor(
    private readonly room: Room,
    private readonly opts: RoomAudioOutputOptions,
  ) {
    this.sampleRate = opts.sampleRate;
    this.numChannels = opts.numChannels;
    this.queueSizeMs = checkQueueSize(opts.queueSizeMs ?? DEFAULT_QUEUE_SIZE_MS);
    this.actor = createRoomAudioOutputActor(
      {
        take: () => this.queue.shift(),
        frameQueued: () => (this.queue.length ? Promise.resolve() : new Promise<void>((r) => (this.wake = r))),
        capture: (f) => this.capture(f),
        waitForSubscriber: async () => (await this.publish()).waitForSubscription(),
        waitForPlayout: async () => this.source?.waitForPlayout(),
        clear: () => this.clearNow(),
        close: () => void this.closeSource().catch(() => undefined),
        playbackStarted: () => this.events$.next({ type: 'playback_started', createdAt: Date.now() }),
        finished: (interrupted) => this.finished(interrupted),
        captureError: (m) => this.errors$.next(new Error(`room audio output: ${m}`)),
      },
      { captureStallMs: opts.captureStallMs ?? this.queueSizeMs + 1000, parent: opts.parent, inspect: opts.inspect },
    );
    this.actor.start();
  }

  /** Publishes the track (once). Resolves with its publication. */
  publish(): Promise<LocalTrackPublication> {
    this.published ??= (async () => {
      const lp = this.room.localParticipant;
      if (!lp) throw new Error('room audio output: the room is not connected');
      this.source = new AudioSource(this.sampleRate, this.numChannels, this.queueSizeMs);
      const track = LocalAudioTrack.createAudioTrack(this.opts.trackName, this.source);
      this.publication = await lp.publishTrack(track, this.opts.publishOptions);
      return this.publication;
    })();
    return this.published;
  }

  get trackSid(): string | undefined {
    return this.publication?.sid;
  }

  /** ms handed to the track and not yet played: bounded by the source's queue (backpressure). */
  get aheadOfPlayoutMs(): number {
    return this.source?.queuedDuration ?? 0;
  }

  /** ms of the current segment heard so far: what went into the source minus what still waits in its queue. */
  get playbackPosition(): number {
    return Math.max(0, this.capturedMs - (this.source?.queuedDuration ?? 0));
  }

  captureFrame(frame: AudioFrame): void {
    if (frame.sampleRate !== this.sampleRate) {
      this.errors$.next(new AudioFormatError(`room audio output takes ${this.sampleRate} Hz audio, got a ${frame.sampleRate} Hz frame (dropped)`));
      return;
    }
    const data = remix(frame.data, frame.channels, this.numChannels, frame.samplesPerChannel);
    const step = Math.max(1, Math.round((this.sampleRate * CHUNK_MS) / 1000));
    let ms = 0;
    for (let i = 0; i < frame.samplesPerChannel; i += step) {
      const n = Math.min(step, frame.samplesPerChannel - i);
      const pieceMs = (n / this.sampleRate) * 1000;
      this.queue.push({ frame: new RtcAudioFrame(data.slice(i * this.numChannels, (i + n) * this.numChannels), this.sampleRate, this.numChannels, n), ms: pieceMs });
      ms += pieceMs;
    }
    if (ms === 0) return;
    this.actor.send({ type: 'FRAME', ms });
    this.wake?.();
    this.wake = null;
  }

  flush(): void {
    this.actor.send({ type: 'FLUSH' });
  }

  clearBuffer(): void {
    this.actor.send({ type: 'CLEAR' });
  }

  pause(): void {
    throw new Error('the room audio output cannot pause');
  }
  resume(): void {}

  close(): void {
    if (this.actor.getSnapshot().status !== 'active') return;
    this.actor.send({ type: 'CLOSE' });
    // The actor is final now; a standalone one is also stopped (a child is its parent's to stop, with the session).
    if (!this.opts.parent) this.actor.stop();
    this.wake?.();
  }

  private async capture(piece: { frame: RtcAudioFrame; ms: number }): Promise<void> {
    const source = this.source;
    if (!source) throw new Error('the audio track is not published');
    // A capture from before a clear lands, and is dropped, before the next segment's first: dropping it then takes
    // nothing of the new segment with it.
    await this.landed;
    const gen = this.generation;
    this.capturedMs += piece.ms;
    const captured = source.captureFrame(piece.frame);
    // Cleared while this frame waited for room: it must not be heard.
    this.landed = captured.then(
      () => (gen !== this.generation ? this.dropSourceQueue() : undefined),
      () => undefined,
    );
    await captured;
  }

  private dropSourceQueue(): void {
    try {
      this.source?.clearQueue();
    } catch (e) {
      this.errors$.next(new Error(`room audio output: clearing the source failed: ${e instanceof Error ? e.message : String(e)}`));
    }
  }

  private clearNow(): void {
    this.generation++;
    this.queue = [];
    // A dead source has nothing left to clear; the segment still ends (the actor must never throw).
    this.dropSourceQueue();
  }

  private finished(interrupted: boolean): void {
    const position = interrupted ? this.playbackPosition : this.capturedMs;
    this.capturedMs = 0;
    this.queue = [];
    this.events$.next({ type: 'playback_finished', playbackPosition: position, interrupted });
  }

  private async closeSource(): Promise<void> {
    this.queue = [];
    const source = this.source;
    this.source = null;
    if (!source) return;
    const pub = this.publication;
    if (pub?.sid && this.room.localParticipant && this.room.isConnected) await this.room.localParticipant.unpublishTrack(pub.sid).catch(() => undefined);
    await source.close();
  }
}

/** Mono ↔ N channels: duplicate a mono signal, average down to mono; other layouts are refused. */
function remix(data: Int16Array, from: number, to: number, samples: number): Int16Array {
  if (from === to) return data;
  const out = new Int16Array(samples * to);
  if (from === 1) {
    for (let i = 0; i < samples; i++) for (let c = 0; c < to; c++) out[i * to + c] = data[i]!;
    return out;
  }
  if (to === 1) {
    for (let i = 0; i < samples; i++) {
      let s = 0;
      for (let c = 0; c < from; c++) s += data[i * from + c]!;
      out[i] = Math.round(s / from);
    }
    return out;
  }
  throw new AudioFormatError(`room audio output cannot turn ${from}-channel audio into ${to} channels`);
}
