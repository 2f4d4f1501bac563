/**
 * Test helpers for the real LiveKit server (scripts/livekit-server.sh): tokens, rtc-node participants that play the
 * user, and recorders for what a participant receives (agent audio, lk.transcription streams, attributes).
 */
import {
  AudioFrame as RtcAudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  type RemoteParticipant,
  type RemoteTrack,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { lastValueFrom, toArray } from 'rxjs';
import { readWav } from '../../../src/audio/wav.ts';
import type { AudioFrame } from '../../../src/audio/frame.ts';
import { shortId } from '../../../src/llm/ids.ts';
import { routeRoomEvents } from '../../../src/room/ffiClient.ts';

export interface LiveKitEnv {
  url: string;
  apiKey: string;
  apiSecret: string;
}

/**
 * The server to test against. Without LIVEKIT_URL the room tests skip with a visible message, except under CI=true,
 * where a missing server is a failure (the room tests must run in CI).
 */
export function liveKitEnv(): LiveKitEnv | null {
  const url = process.env.LIVEKIT_URL;
  if (!url) {
    if (process.env.CI === 'true') throw new Error('CI=true but LIVEKIT_URL is unset: the room tests need the local LiveKit server (scripts/livekit-server.sh up)');
    console.warn('SKIPPED: LiveKit room tests need LIVEKIT_URL (run `scripts/livekit-server.sh up` and eval its `env`)');
    return null;
  }
  return { url, apiKey: process.env.LIVEKIT_API_KEY ?? 'devkey', apiSecret: process.env.LIVEKIT_API_SECRET ?? 'secret' };
}

export const uniqueRoom = (prefix: string) => `${prefix}-${shortId('')}`;

export async function token(env: LiveKitEnv, room: string, identity: string, opts: { kind?: 'agent' | 'standard'; name?: string } = {}): Promise<string> {
  const at = new AccessToken(env.apiKey, env.apiSecret, { identity, name: opts.name ?? identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true, canUpdateOwnMetadata: true, agent: opts.kind === 'agent' });
  if (opts.kind === 'agent') (at as unknown as { kind: string }).kind = 'agent';
  return at.toJwt();
}

export async function join(env: LiveKitEnv, room: string, identity: string, opts: { kind?: 'agent' | 'standard' } = {}): Promise<Room> {
  const r = new Room();
  routeRoomEvents(r);
  await r.connect(env.url, await token(env, room, identity, opts), { autoSubscribe: true, dynacast: false });
  return r;
}

export async function wavFrames(path: string, frameMs = 10): Promise<AudioFrame[]> {
  return lastValueFrom(readWav(path, { frameMs }).pipe(toArray()));
}

/**
 * A microphone track a test participant speaks into: one pump hands the source a frame at a time (10 ms unless
 * told; the source's queue paces it in real time), from what `say` queued, else silence — a real microphone never
 * stops. Longer frames cost fewer native calls (the rooms bench runs many users in one process).
 */
export class Microphone {
  readonly source: AudioSource;
  sid: string | undefined;
  private stopped = false;
  private queue: Array<{ frame: AudioFrame; done?: () => void }> = [];

  private constructor(
    readonly room: Room,
    readonly sampleRate: number,
    readonly frameMs: number,
  ) {
    this.source = new AudioSource(sampleRate, 1, Math.max(100, 2 * frameMs));
  }

  static async publish(room: Room, sampleRate = 16000, name = 'mic', frameMs = 10): Promise<Microphone> {
    const mic = new Microphone(room, sampleRate, frameMs);
    const track = LocalAudioTrack.createAudioTrack(name, mic.source);
    const pub = await room.localParticipant!.publishTrack(track, new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));
    mic.sid = pub.sid;
    void mic.pump();
    return mic;
  }

  /** Speaks these frames after what is queued; resolves when the last one was handed to the source. */
  say(frames: AudioFrame[]): Promise<void> {
    return new Promise((resolve) => {
      if (!frames.length) return resolve();
      frames.forEach((frame, i) => this.queue.push(i === frames.length - 1 ? { frame, done: resolve } : { frame }));
    });
  }

  private async pump(): Promise<void> {
    const n = (this.sampleRate * this.frameMs) / 1000;
    while (!this.stopped) {
      const next = this.queue.shift();
      const f = next?.frame;
      try {
        await this.source.captureFrame(f ? new RtcAudioFrame(f.data, f.sampleRate, f.channels, f.samplesPerChannel) : new RtcAudioFrame(new Int16Array(n), this.sampleRate, 1, n));
      } catch {
        return;
      }
      next?.done?.();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const q of this.queue.splice(0)) q.done?.();
    await this.source.close();
  }
}

export interface ReceivedAudio {
  /** Epoch ms of each received 10 ms frame, with its mean absolute amplitude. */
  frames: Array<{ at: number; ms: number; level: number }>;
}

/** Records the audio track an agent publishes, as heard by this participant. */
export function recordAudioFrom(room: Room, identity: string): ReceivedAudio & { stop(): void } {
  const rec: ReceivedAudio & { stop(): void } = { frames: [], stop: () => undefined };
  let reader: ReadableStreamDefaultReader<RtcAudioFrame> | null = null;
  const onSub = (track: RemoteTrack, _pub: unknown, p: RemoteParticipant) => {
    if (p.identity !== identity || track.kind !== TrackKind.KIND_AUDIO || reader) return;
    reader = new AudioStream(track, { sampleRate: 24000, numChannels: 1, frameSizeMs: 10 }).getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader!.read().catch(() => ({ value: undefined, done: true as const }));
        if (done || !value) return;
        let s = 0;
        for (const x of value.data) s += Math.abs(x);
        rec.frames.push({ at: Date.now(), ms: (value.samplesPerChannel / value.sampleRate) * 1000, level: s / Math.max(1, value.data.length) });
      }
    })();
  };
  room.on(RoomEvent.TrackSubscribed, onSub);
  for (const p of room.remoteParticipants.values()) for (const pub of p.trackPublications.values()) if (pub.track) onSub(pub.track as RemoteTrack, pub, p);
  rec.stop = () => {
    room.off(RoomEvent.TrackSubscribed, onSub);
    void reader?.cancel().catch(() => undefined);
  };
  return rec;
}

/** Stretches of received audio above a level, separated by at least `gapMs` of quiet: [startAt, endAt, audibleMs]. */
export function audibleSpans(rec: ReceivedAudio, level = 50, gapMs = 400): Array<{ start: number; end: number; audibleMs: number }> {
  const spans: Array<{ start: number; end: number; audibleMs: number }> = [];
  for (const f of rec.frames) {
    if (f.level < level) continue;
    const last = spans.at(-1);
    if (last && f.at - last.end <= gapMs) {
      last.end = f.at;
      last.audibleMs += f.ms;
    } else spans.push({ start: f.at, end: f.at, audibleMs: f.ms });
  }
  return spans;
}

export interface ReceivedStream {
  identity: string;
  attributes: Record<string, string>;
  openedAt: number;
  chunks: Array<{ at: number; text: string }>;
  closedAt: number | null;
  text: string;
}

/** Records every lk.transcription text stream this participant receives. */
export function recordTranscriptions(room: Room): ReceivedStream[] {
  const out: ReceivedStream[] = [];
  room.registerTextStreamHandler('lk.transcription', (reader, { identity }) => {
    const s: ReceivedStream = { identity, attributes: { ...(reader.info.attributes ?? {}) }, openedAt: Date.now(), chunks: [], closedAt: null, text: '' };
    out.push(s);
    void (async () => {
      for await (const chunk of reader) {
        s.chunks.push({ at: Date.now(), text: chunk });
        s.text += chunk;
      }
      s.closedAt = Date.now();
    })().catch(() => undefined);
  });
  return out;
}

/** Records the values an attribute of a participant takes. */
export function recordAttribute(room: Room, identity: string, key: string): string[] {
  const values: string[] = [];
  room.on(RoomEvent.ParticipantAttributesChanged, (changed: Record<string, string>, p) => {
    if (p.identity === identity && key in changed) values.push(changed[key]!);
  });
  return values;
}

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
