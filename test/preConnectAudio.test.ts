/**
 * Pre-connect audio without a server: decoding what clients send (PCM, and Opus in WebM as Chromium records it or
 * in Ogg as Firefox does), the handler that keeps buffers per sender and track (timeouts in virtual time), and the
 * room audio input that puts the recording before the live track's frames.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { TrackKind, TrackSource } from '@livekit/rtc-node';
import { createActor } from 'xstate';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioFrame } from '../src/audio/frame.ts';
import { MAX_PRE_CONNECT_BUFFERS, PreConnectAudioError, PreConnectAudioHandler, TF_PRECONNECT_BUFFER, TOPIC_PRE_CONNECT_AUDIO } from '../src/room/preConnectAudio.ts';
import { decodePreConnectBuffer, toInputFormat } from '../src/room/preConnectDecode.ts';
import { readOggOpus, readWebmOpus } from '../src/room/preConnectOpus.ts';
import { leadGate } from '../src/room/leadGate.ts';
import { resolveRoomInputOptions } from '../src/room/options.ts';

// The live track: an AudioStream whose frames the test hands over (rtc-node's needs a native track).
const live = vi.hoisted(() => {
  const streams: Array<{ push(f: unknown): void; end(): void }> = [];
  class FakeAudioStream {
    private queue: unknown[] = [];
    private waiting: ((r: { value: unknown; done: boolean }) => void) | null = null;
    constructor() {
      streams.push({
        push: (f) => (this.waiting ? (this.waiting({ value: f, done: false }), (this.waiting = null)) : this.queue.push(f)),
        end: () => this.waiting?.({ value: undefined, done: true }),
      });
    }
    getReader() {
      return {
        read: () => (this.queue.length ? Promise.resolve({ value: this.queue.shift(), done: false }) : new Promise((r) => (this.waiting = r))),
        cancel: () => Promise.resolve(),
      };
    }
  }
  return { streams, FakeAudioStream };
});
vi.mock('@livekit/rtc-node', async (importOriginal) => ({ ...(await importOriginal<object>()), AudioStream: live.FakeAudioStream }));
const { roomAudioInputLogic } = await import('../actors/roomAudioInput.ts');

const webm = new Uint8Array(readFileSync(new URL('./fixtures/preconnect-tone440.webm', import.meta.url)));
const OPUS_WEBM = { mimeType: 'audio/webm;codecs=opus', attributes: { trackId: 'TR_mic', sampleRate: '48000', channels: '1' } };

/** Rising zero crossings per second over the samples after the first 100 ms (the encoder's start-up). */
function frequency(f: AudioFrame): number {
  let n = 0;
  const from = f.sampleRate / 10;
  for (let i = from; i < f.samplesPerChannel - 1; i++) if (f.data[i]! < 0 && f.data[i + 1]! >= 0) n++;
  return n / ((f.samplesPerChannel - 1 - from) / f.sampleRate);
}
const peak = (f: AudioFrame) => f.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

// ------------------------------------------------------------------------------------------------ an Ogg muxer

const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});
const oggCrc = (b: Uint8Array) => b.reduce((c, x) => ((c << 8) ^ CRC_TABLE[((c >>> 24) ^ x) & 0xff]!) >>> 0, 0);

/** Ogg pages (RFC 3533) for these packets, at most `maxSegments` lacing values a page, so long packets span pages. */
function oggPages(serial: number, packets: Uint8Array[], maxSegments = 255): Uint8Array[] {
  const segs: Array<{ data: Uint8Array; last: boolean }> = [];
  for (const p of packets) {
    let o = 0;
    for (; p.length - o >= 255; o += 255) segs.push({ data: p.subarray(o, o + 255), last: false });
    segs.push({ data: p.subarray(o), last: true });
  }
  const pages: Uint8Array[] = [];
  let continued = false;
  for (let i = 0, seq = 0; i < segs.length; i += maxSegments, seq++) {
    const page = segs.slice(i, i + maxSegments);
    const body = page.reduce((n, s) => n + s.data.length, 0);
    const b = new Uint8Array(27 + page.length + body);
    const v = new DataView(b.buffer);
    b.set([0x4f, 0x67, 0x67, 0x53]);
    b[5] = (continued ? 1 : 0) | (seq === 0 ? 2 : 0) | (i + maxSegments >= segs.length ? 4 : 0);
    v.setUint32(14, serial, true);
    v.setUint32(18, seq, true);
    b[26] = page.length;
    let o = 27 + page.length;
    page.forEach((s, k) => {
      b[27 + k] = s.data.length;
      b.set(s.data, o);
      o += s.data.length;
    });
    v.setUint32(22, oggCrc(b), true);
    pages.push(b);
    continued = !page.at(-1)!.last;
  }
  return pages;
}
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
  return out;
};
const opusTags = new TextEncoder().encode('OpusTags\x04\x00\x00\x00test\x00\x00\x00\x00');
const opusHead = (preSkip: number) => {
  const b = new Uint8Array(19);
  b.set(new TextEncoder().encode('OpusHead'));
  b[8] = 1;
  b[9] = 1;
  new DataView(b.buffer).setUint16(10, preSkip, true);
  new DataView(b.buffer).setUint32(12, 48000, true);
  return b;
};

describe('pre-connect buffers are decoded', () => {
  it('raw PCM (s16le) at the stream attributes, converted to the input format in 50 ms frames', async () => {
    const pcm = new Int16Array(16000 * 0.3).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000)));
    const bytes = new Uint8Array(pcm.buffer);
    const rec = await decodePreConnectBuffer(bytes, { mimeType: 'application/octet-stream', attributes: { trackId: 'TR_x', sampleRate: '16000', channels: '1' } });
    expect([rec.sampleRate, rec.channels, rec.samplesPerChannel]).toEqual([16000, 1, 4800]);
    expect([...rec.data]).toEqual([...pcm]);
    const same = await toInputFormat(rec, 16000, 1);
    expect(same.map((f) => f.samplesPerChannel)).toEqual([800, 800, 800, 800, 800, 800]);
    const up = await toInputFormat(rec, 24000, 1);
    expect(up.every((f) => f.sampleRate === 24000)).toBe(true);
    expect(Math.abs(up.reduce((n, f) => n + f.samplesPerChannel, 0) - 7200)).toBeLessThan(40);
  });

  it('stereo PCM is mixed to the mono input; an odd byte count is refused', async () => {
    const stereo = new Int16Array([1000, 3000, -2000, -4000]);
    const rec = await decodePreConnectBuffer(new Uint8Array(stereo.buffer), { attributes: { sampleRate: '8000', channels: '2' } });
    const [mono] = await toInputFormat(rec, 8000, 1);
    expect([...mono!.data]).toEqual([2000, -3000]);
    await expect(decodePreConnectBuffer(new Uint8Array(3), { attributes: { sampleRate: '8000', channels: '1' } })).rejects.toThrow(/whole number/);
  });

  it('Opus in WebM as Chromium records it: the 440 Hz tone, about 1 s, at half scale', async () => {
    const { head, packets } = readWebmOpus(webm);
    expect(head.channels).toBe(1);
    expect(packets.length).toBeGreaterThan(10);
    const rec = await decodePreConnectBuffer(webm, OPUS_WEBM);
    expect(rec.sampleRate).toBe(48000);
    expect(rec.durationMs).toBeGreaterThan(800);
    expect(rec.durationMs).toBeLessThan(1100);
    expect(frequency(rec)).toBeGreaterThan(430);
    expect(frequency(rec)).toBeLessThan(450);
    expect(peak(rec)).toBeGreaterThan(14000);
    expect(peak(rec)).toBeLessThan(19000);
  });

  it('Opus in Ogg (packets across pages, another stream interleaved): the same audio as the WebM, less the pre-skip', async () => {
    const { packets } = readWebmOpus(webm);
    const big = concat(packets.slice(0, 3)); // not valid Opus, only to see a packet spanning pages survive
    const other = oggPages(7, [new TextEncoder().encode('\x80theora'), big], 1);
    const opus = oggPages(1, [opusHead(312), opusTags, ...packets], 2);
    const ogg = concat(opus.flatMap((p, i) => (other[i] ? [p, other[i]!] : [p])));
    const read = readOggOpus(ogg);
    expect(read.head.preSkip).toBe(312);
    expect(read.packets.map((p) => p.length)).toEqual(packets.map((p) => p.length));
    const fromOgg = await decodePreConnectBuffer(ogg, { mimeType: 'audio/ogg;codecs=opus', attributes: OPUS_WEBM.attributes });
    const fromWebm = await decodePreConnectBuffer(webm, OPUS_WEBM);
    expect(fromOgg.samplesPerChannel).toBe(fromWebm.samplesPerChannel - 312);
    expect([...fromOgg.data.subarray(0, 2000)]).toEqual([...fromWebm.data.subarray(312, 2312)]);
  });

  it('malformed buffers fail with a message that says what is wrong', async () => {
    const attrs = OPUS_WEBM.attributes;
    await expect(decodePreConnectBuffer(new Uint8Array([1, 2, 3, 4, 5]), OPUS_WEBM)).rejects.toThrow(/neither WebM nor Ogg/);
    await expect(decodePreConnectBuffer(webm.subarray(0, 60), OPUS_WEBM)).rejects.toThrow(/no Opus track/);
    const ogg = concat(oggPages(1, [opusHead(0), opusTags]));
    await expect(decodePreConnectBuffer(concat([ogg, new Uint8Array(40)]), { mimeType: 'audio/opus', attributes: attrs })).rejects.toThrow(/OggS/);
    await expect(decodePreConnectBuffer(webm, { mimeType: 'video/mp4', attributes: attrs })).rejects.toThrow(/video\/mp4 are not supported/);
    await expect(decodePreConnectBuffer(webm, { mimeType: 'audio/webm;codecs=opus', attributes: { channels: '1' } })).rejects.toThrow(/no sampleRate/);
    await expect(decodePreConnectBuffer(webm, { mimeType: 'audio/webm;codecs=opus', attributes: { sampleRate: 'x', channels: '1' } })).rejects.toThrow(/invalid sampleRate/);
  });
});

// ------------------------------------------------------------------------------------------------ handler, input

interface FakeReader {
  info: { id: string; topic: string; mimeType: string; attributes: Record<string, string>; timestamp: number; name: string };
  readAll: () => Promise<Uint8Array[]>;
  close: ReturnType<typeof vi.fn>;
  deliver: (bytes: Uint8Array) => void;
}
function fakeReader(bytes: Uint8Array | null, info: { mimeType?: string; attributes: Record<string, string> }): FakeReader {
  let deliver!: (b: Uint8Array) => void;
  const all = new Promise<Uint8Array[]>((r) => (deliver = (b) => r([b.subarray(0, 100), b.subarray(100)])));
  if (bytes) deliver(bytes);
  return { info: { id: 'BS_1', topic: TOPIC_PRE_CONNECT_AUDIO, name: 'preconnect-buffer', timestamp: Date.now(), mimeType: info.mimeType ?? 'application/octet-stream', attributes: info.attributes }, readAll: () => all, close: vi.fn(async () => undefined), deliver };
}

class FakeRoom extends EventEmitter {
  isConnected = false;
  handlers = new Map<string, (r: unknown, p: { identity: string }) => void>();
  remoteParticipants = new Map<string, { identity: string; trackPublications: Map<string, unknown> }>();
  registerByteStreamHandler(topic: string, cb: (r: unknown, p: { identity: string }) => void) {
    if (this.handlers.has(topic)) throw new Error(`A byte stream handler for topic "${topic}" has already been set.`);
    this.handlers.set(topic, cb);
  }
  unregisterByteStreamHandler(topic: string) {
    this.handlers.delete(topic);
  }
  send(identity: string, reader: FakeReader) {
    this.handlers.get(TOPIC_PRE_CONNECT_AUDIO)!(reader, { identity });
  }
  publishMic(identity: string, sid: string, features: number[]) {
    const pub = { sid, kind: TrackKind.KIND_AUDIO, source: TrackSource.SOURCE_MICROPHONE, track: {}, info: { sid, audioFeatures: features } };
    this.remoteParticipants.set(identity, { identity, trackPublications: new Map([[sid, pub]]) });
  }
}

const pcmBuffer = (value: number, samples: number, sampleRate = 24000) => new Uint8Array(new Int16Array(samples).fill(value).buffer);
const PCM24 = (trackId: string) => ({ attributes: { trackId, sampleRate: '24000', channels: '1' } });
const frame = (value: number) => new AudioFrame(new Int16Array(1200).fill(value), 24000, 1, 1200);

/** In virtual time: a fake room with a registered handler (3000 ms timeout) and the errors it reports. */
function freshHandler(): { room: FakeRoom; errors: Error[]; handler: PreConnectAudioHandler } {
  vi.useFakeTimers({ now: 1_000_000 });
  const room = new FakeRoom();
  const errors: Error[] = [];
  const handler = new PreConnectAudioHandler(room as never, { timeoutMs: 3000, onError: (e) => errors.push(e) });
  handler.register();
  return { room, errors, handler };
}

describe('the pre-connect handler', () => {
  let room: FakeRoom;
  let errors: Error[];
  let handler: PreConnectAudioHandler;
  beforeEach(() => {
    ({ room, errors, handler } = freshHandler());
  });
  afterEach(() => {
    handler.close();
    vi.useRealTimers();
  });

  it('options: on by default with a 3000 ms timeout; validated', () => {
    expect(resolveRoomInputOptions({})).toMatchObject({ preConnectAudio: true, preConnectAudioTimeout: 3000 });
    expect(resolveRoomInputOptions({ preConnectAudio: false, preConnectAudioTimeout: 500 })).toMatchObject({ preConnectAudio: false, preConnectAudioTimeout: 500 });
    expect(() => resolveRoomInputOptions({ preConnectAudioTimeout: 0 })).toThrow(RangeError);
  });

  it('a buffer that came before its track opened is taken once', async () => {
    room.send('alice', fakeReader(pcmBuffer(500, 2400), PCM24('TR_a')));
    await vi.advanceTimersByTimeAsync(100);
    const rec = await handler.take('alice', 'TR_a');
    expect(rec?.samplesPerChannel).toBe(2400);
    expect(rec?.data[0]).toBe(500);
    const again = handler.take('alice', 'TR_a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(await again).toBeNull();
    expect(errors).toEqual([]);
  });

  it('a track that opens first waits for its buffer, up to the timeout', async () => {
    const waiting = handler.take('alice', 'TR_a');
    await vi.advanceTimersByTimeAsync(2000);
    room.send('alice', fakeReader(pcmBuffer(700, 1200), PCM24('TR_a')));
    expect((await waiting)?.data[0]).toBe(700);
    const never = handler.take('alice', 'TR_b');
    let settled = false;
    void never.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(2999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await never).toBeNull();
  });

  it("another participant's buffer for the same track id is not taken", async () => {
    room.send('mallory', fakeReader(pcmBuffer(900, 1200), PCM24('TR_a')));
    const taken = handler.take('alice', 'TR_a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(await taken).toBeNull();
  });

  it('a stream not complete within the timeout is dropped and reported; a stale buffer is dropped', async () => {
    const slow = fakeReader(null, PCM24('TR_a'));
    room.send('alice', slow);
    const taken = handler.take('alice', 'TR_a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(await taken).toBeNull();
    expect(slow.close).toHaveBeenCalled();
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/not complete within 3000 ms/)]);
    room.send('alice', fakeReader(pcmBuffer(1, 240), PCM24('TR_b')));
    await vi.advanceTimersByTimeAsync(1500);
    expect(await handler.take('alice', 'TR_b')).toBeNull();
    expect(errors.at(-1)?.message).toMatch(/1500 ms old; dropped/);
  });

  it(`at most ${MAX_PRE_CONNECT_BUFFERS} buffers are kept: the oldest goes first`, async () => {
    for (let i = 0; i <= MAX_PRE_CONNECT_BUFFERS; i++) room.send('alice', fakeReader(pcmBuffer(i + 1, 240), PCM24(`TR_${i}`)));
    await vi.advanceTimersByTimeAsync(10);
    expect((await handler.take('alice', `TR_${MAX_PRE_CONNECT_BUFFERS}`))?.data[0]).toBe(MAX_PRE_CONNECT_BUFFERS + 1);
    expect((await handler.take('alice', 'TR_1'))?.data[0]).toBe(2);
    const evicted = handler.take('alice', 'TR_0');
    await vi.advanceTimersByTimeAsync(3000);
    expect(await evicted).toBeNull();
  });

  it('a malformed buffer rejects the take with a PreConnectAudioError; no trackId is reported', async () => {
    room.send('alice', fakeReader(new Uint8Array([9, 9, 9, 9]), { mimeType: 'audio/webm;codecs=opus', attributes: { trackId: 'TR_a', sampleRate: '48000', channels: '1' } }));
    const err = await handler.take('alice', 'TR_a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreConnectAudioError);
    expect((err as Error).message).toMatch(/alice .*TR_a.* unusable: Opus pre-connect buffer is neither WebM nor Ogg/);
    room.send('alice', fakeReader(pcmBuffer(1, 10), { attributes: { sampleRate: '24000', channels: '1' } }));
    expect(errors.at(-1)?.message).toMatch(/no trackId/);
  });

  it('registered after the room connected: warned once, when a buffer is awaited; a second handler is refused', async () => {
    handler.close();
    room.isConnected = true;
    handler = new PreConnectAudioHandler(room as never, { timeoutMs: 3000, onError: (e) => errors.push(e) });
    expect(handler.register()).toBe(true);
    expect(errors).toEqual([]);
    room.send('alice', fakeReader(pcmBuffer(1, 240), PCM24('TR_a')));
    room.send('alice', fakeReader(pcmBuffer(1, 240), PCM24('TR_b')));
    await handler.take('alice', 'TR_a');
    await handler.take('alice', 'TR_b');
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/registered after the room connected.*before ctx\.connect\(\)/)]);
    const second = new PreConnectAudioHandler(room as never, { timeoutMs: 3000, onError: (e) => errors.push(e) });
    expect(second.register()).toBe(false);
    expect(errors.at(-1)?.message).toMatch(/already has a handler/);
  });
});

describe('the room audio input hears the pre-connect recording first', () => {
  let room: FakeRoom;
  let handler: PreConnectAudioHandler;
  let pushed: AudioFrame[];
  let errors: Error[];
  beforeEach(() => {
    live.streams.length = 0;
    pushed = [];
    ({ room, errors, handler } = freshHandler());
  });
  afterEach(() => {
    handler.close();
    vi.useRealTimers();
  });
  const startInput = (identity: string) =>
    createActor(roomAudioInputLogic, {
      input: { room: room as never, identity, sampleRate: 24000, numChannels: 1, push: (f) => pushed.push(f), preConnect: handler, onError: (e) => errors.push(e) },
    }).start();

  it('live frames that arrive while the buffer is on its way wait behind it', async () => {
    room.publishMic('alice', 'TR_a', [TF_PRECONNECT_BUFFER]);
    const actor = startInput('alice');
    expect(live.streams).toHaveLength(1);
    for (const v of [1, 2, 3]) live.streams[0]!.push(frame(v));
    await vi.advanceTimersByTimeAsync(200);
    expect(pushed).toEqual([]);
    room.send('alice', fakeReader(pcmBuffer(-7, 6000), PCM24('TR_a'))); // 250 ms
    await vi.advanceTimersByTimeAsync(10);
    live.streams[0]!.push(frame(4));
    await vi.advanceTimersByTimeAsync(10);
    expect(pushed.map((f) => f.data[0])).toEqual([-7, -7, -7, -7, -7, 1, 2, 3, 4]);
    expect(pushed.slice(0, 5).every((f) => f.samplesPerChannel === 1200)).toBe(true);
    actor.stop();
  });

  it('a track without the TF_PRECONNECT_BUFFER feature does not wait', async () => {
    room.publishMic('alice', 'TR_a', []);
    const actor = startInput('alice');
    room.send('alice', fakeReader(pcmBuffer(-7, 6000), PCM24('TR_a')));
    live.streams[0]!.push(frame(1));
    await vi.advanceTimersByTimeAsync(10);
    expect(pushed.map((f) => f.data[0])).toEqual([1]);
    actor.stop();
  });

  it('no buffer within the timeout: the held live frames flow, in order', async () => {
    room.publishMic('alice', 'TR_a', [TF_PRECONNECT_BUFFER]);
    const actor = startInput('alice');
    live.streams[0]!.push(frame(1));
    room.send('mallory', fakeReader(pcmBuffer(-7, 6000), PCM24('TR_a')));
    await vi.advanceTimersByTimeAsync(2990);
    live.streams[0]!.push(frame(2));
    await vi.advanceTimersByTimeAsync(5);
    expect(pushed).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(pushed.map((f) => f.data[0])).toEqual([1, 2]);
    actor.stop();
  });

  it('a malformed buffer is reported and the live audio goes on', async () => {
    room.publishMic('alice', 'TR_a', [TF_PRECONNECT_BUFFER]);
    const actor = startInput('alice');
    live.streams[0]!.push(frame(1));
    room.send('alice', fakeReader(new Uint8Array([1, 2, 3]), PCM24('TR_a')));
    await vi.advanceTimersByTimeAsync(10);
    live.streams[0]!.push(frame(2));
    await vi.advanceTimersByTimeAsync(10);
    expect(pushed.map((f) => f.data[0])).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PreConnectAudioError);
    expect(errors[0]!.message).toMatch(/not a whole number/);
    actor.stop();
  });
});

describe('leadGate', () => {
  it('a lead that settles after the track closed is dropped', async () => {
    let resolve!: (f: AudioFrame[]) => void;
    const out: AudioFrame[] = [];
    const gate = leadGate(new Promise((r) => (resolve = r)), (f) => out.push(f), () => undefined);
    gate.live(frame(1));
    gate.close();
    resolve([frame(9)]);
    await Promise.resolve();
    gate.live(frame(2));
    expect(out).toEqual([]);
  });
});
