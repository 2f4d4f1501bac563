/**
 * Pre-connect audio (LiveKit Agents' `PreConnectAudioHandler`): a client may record its microphone before the agent
 * is there and, once the agent joins, send that recording as a byte stream on `lk.agent.pre-connect-audio-buffer`
 * (attributes `trackId`, `sampleRate`, `channels`; livekit-client's `preConnectBuffer` publish option does this and
 * marks the track with the TF_PRECONNECT_BUFFER audio feature). The handler keeps each buffer under the sender's
 * identity and the track it belongs to, until the audio input opens that track and takes it.
 */
import type { ByteStreamReader, Room, TrackPublication } from '@livekit/rtc-node';
import type { AudioFrame } from '../audio/frame.ts';
import { decodePreConnectBuffer } from './preConnectDecode.ts';
import { concat } from './preConnectOpus.ts';

export const TOPIC_PRE_CONNECT_AUDIO = 'lk.agent.pre-connect-audio-buffer';

/**
 * `livekit.AudioTrackFeature.TF_PRECONNECT_BUFFER` (same number in livekit_models.proto and the FFI's track.proto);
 * rtc-node does not export the enum.
 */
export const TF_PRECONNECT_BUFFER = 6;

/** A buffer whose stream opened longer than this before its track was opened is stale (LiveKit Agents' max_delta_s). */
export const PRE_CONNECT_MAX_AGE_MS = 1000;

/** Buffers kept at most: the oldest received is dropped first, so buffers for tracks never opened cannot pile up. */
export const MAX_PRE_CONNECT_BUFFERS = 16;

/** Whether the publisher of this track recorded a pre-connect buffer for it. */
export const hasPreConnectBuffer = (pub: TrackPublication): boolean => !!pub.info?.audioFeatures?.includes(TF_PRECONNECT_BUFFER);

export interface PreConnectAudioHandlerOptions {
  /** How long a buffer may take to arrive, counted from its stream's start and from the track's opening. */
  timeoutMs: number;
  /** A buffer that could not be read or decoded, and warnings (late registration, timeouts, stale buffers). */
  onError: (e: Error) => void;
}

interface Slot {
  /** The recording, or null when its stream was dropped (timed out). Rejects when it cannot be decoded. */
  recording: Promise<AudioFrame | null>;
  settle: (r: AudioFrame | null | Error) => void;
  /** Epoch ms its stream opened; null while only a track waits for it. */
  openedAt: number | null;
}

/** The error a buffer that cannot be used is reported with. */
export class PreConnectAudioError extends Error {
  override name = 'PreConnectAudioError';
}

export class PreConnectAudioHandler {
  private readonly slots = new Map<string, Slot>();
  private readonly readers = new Set<ByteStreamReader>();
  private registered = false;
  private registeredAfterConnect = false;
  private warnedLate = false;

  constructor(
    private readonly room: Room,
    private readonly opts: PreConnectAudioHandlerOptions,
  ) {}

  /**
   * Starts accepting buffers. rtc-node drops a byte stream whose topic has no handler, so a handler registered after
   * the room connected can miss a buffer sent right away: that is warned about once, when a buffer is awaited.
   * Returns false when another handler owns the topic in this room.
   */
  register(): boolean {
    if (this.registered) return true;
    try {
      this.room.registerByteStreamHandler(TOPIC_PRE_CONNECT_AUDIO, (reader, { identity }) => this.receive(reader, identity));
    } catch (e) {
      this.opts.onError(new PreConnectAudioError(`${TOPIC_PRE_CONNECT_AUDIO} already has a handler in this room; pre-connect audio is off (${e instanceof Error ? e.message : String(e)})`));
      return false;
    }
    this.registered = true;
    this.registeredAfterConnect = this.room.isConnected;
    return true;
  }

  close(): void {
    if (this.registered) this.room.unregisterByteStreamHandler(TOPIC_PRE_CONNECT_AUDIO);
    this.registered = false;
    for (const r of this.readers) void r.close();
    this.readers.clear();
    for (const s of this.slots.values()) s.settle(null);
    this.slots.clear();
  }

  /**
   * The pre-connect recording of this participant's track, once: it waits up to the timeout for a buffer still to
   * come, and gives none for a stale one or none at all. Rejects (PreConnectAudioError) for a buffer that cannot be
   * decoded.
   */
  async take(identity: string, trackSid: string): Promise<AudioFrame | null> {
    if (this.registeredAfterConnect && !this.warnedLate) {
      this.warnedLate = true;
      this.opts.onError(
        new PreConnectAudioError('pre-connect audio handler registered after the room connected: start the session (RoomIO) before ctx.connect() so no buffer is missed'),
      );
    }
    const key = slotKey(identity, trackSid);
    const slot = this.slotFor(key);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (slot.openedAt !== null && Date.now() - slot.openedAt > PRE_CONNECT_MAX_AGE_MS) {
        this.opts.onError(new PreConnectAudioError(`pre-connect audio of ${identity} (track ${trackSid}) is ${Date.now() - slot.openedAt} ms old; dropped`));
        return null;
      }
      const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), this.opts.timeoutMs)));
      return await Promise.race([slot.recording, timeout]);
    } finally {
      clearTimeout(timer);
      if (this.slots.get(key) === slot) this.slots.delete(key);
    }
  }

  private slotFor(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      let settle!: Slot['settle'];
      const recording = new Promise<AudioFrame | null>((resolve, reject) => (settle = (r) => (r instanceof Error ? reject(r) : resolve(r))));
      // A slot nobody takes (a track never opened) must not raise an unhandled rejection.
      recording.catch(() => undefined);
      slot = { recording, settle, openedAt: null };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private receive(reader: ByteStreamReader, identity: string): void {
    const trackId = reader.info.attributes?.['trackId'];
    if (!trackId) {
      void reader.close();
      this.opts.onError(new PreConnectAudioError(`pre-connect audio from ${identity} has no trackId attribute; ignored`));
      return;
    }
    const key = slotKey(identity, trackId);
    // A new buffer for the same track replaces one already received.
    if (this.slots.get(key)?.openedAt !== null) this.slots.delete(key);
    const slot = this.slotFor(key);
    slot.openedAt = Date.now();
    const received = [...this.slots].filter(([, s]) => s.openedAt !== null);
    for (const [k, s] of received.slice(0, Math.max(0, received.length - MAX_PRE_CONNECT_BUFFERS))) {
      s.settle(null);
      this.slots.delete(k);
    }
    this.readers.add(reader);
    const timer = setTimeout(() => {
      this.opts.onError(new PreConnectAudioError(`pre-connect audio from ${identity} (track ${trackId}) was not complete within ${this.opts.timeoutMs} ms; dropped`));
      slot.settle(null);
      void reader.close();
    }, this.opts.timeoutMs);
    void reader
      .readAll()
      .then((chunks) => decodePreConnectBuffer(concat(chunks), reader.info))
      .then(
        (recording) => slot.settle(recording),
        (e: unknown) =>
          slot.settle(new PreConnectAudioError(`pre-connect audio from ${identity} (track ${trackId}) is unusable: ${e instanceof Error ? e.message : String(e)}`)),
      )
      .finally(() => {
        clearTimeout(timer);
        this.readers.delete(reader);
      });
  }
}

const slotKey = (identity: string, trackSid: string) => `${identity}\u0000${trackSid}`;
