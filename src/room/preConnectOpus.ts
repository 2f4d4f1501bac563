/**
 * Opus pre-connect buffers: browsers record them with MediaRecorder, so they arrive as Opus in WebM (Chromium,
 * livekit-client's `audio/webm;codecs=opus`) or in Ogg (Firefox). The containers are read here (only what an audio
 * recording uses); the packets are decoded by `opus-decoder` (libopus in WASM), loaded on the first Opus buffer.
 */
import { AudioFormatError, AudioFrame } from '../audio/frame.ts';
import { floatToInt16 } from '../audio/operators.ts';

/** The Opus identification header (RFC 7845 §5.1), which both containers carry. */
export interface OpusHead {
  channels: number;
  /** Samples (at 48 kHz) the decoder must drop at the start. */
  preSkip: number;
  mappingFamily: number;
  streamCount: number;
  coupledStreamCount: number;
  channelMapping: number[];
}

export interface OpusPackets {
  head: OpusHead;
  packets: Uint8Array[];
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

export function parseOpusHead(b: Uint8Array): OpusHead {
  if (b.length < 19 || ascii(b, 0, 8) !== 'OpusHead') throw new AudioFormatError('Opus stream has no OpusHead header');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const channels = b[9]!;
  const mappingFamily = b[18]!;
  if (channels < 1) throw new AudioFormatError('OpusHead declares 0 channels');
  if (mappingFamily === 0) {
    if (channels > 2) throw new AudioFormatError(`OpusHead mapping family 0 allows 1 or 2 channels, got ${channels}`);
    return { channels, preSkip: v.getUint16(10, true), mappingFamily, streamCount: 1, coupledStreamCount: channels - 1, channelMapping: channels === 2 ? [0, 1] : [0] };
  }
  if (b.length < 21 + channels) throw new AudioFormatError('OpusHead channel mapping table is truncated');
  return { channels, preSkip: v.getUint16(10, true), mappingFamily, streamCount: b[19]!, coupledStreamCount: b[20]!, channelMapping: [...b.subarray(21, 21 + channels)] };
}

// ------------------------------------------------------------------------------------------------------------- Ogg

/**
 * Reads the first Opus logical stream of an Ogg file (RFC 3533 pages, RFC 7845 packets). A page cut off at the
 * end (a recording stopped mid-write) ends the stream; a page that does not start with `OggS` is an error.
 */
export function readOggOpus(bytes: Uint8Array): OpusPackets {
  const partial = new Map<number, Uint8Array[]>();
  let serial: number | null = null;
  let head: OpusHead | null = null;
  let tagsSeen = false;
  const packets: Uint8Array[] = [];
  const onPacket = (s: number, p: Uint8Array) => {
    if (serial === null) {
      if (ascii(p, 0, 8) !== 'OpusHead') return; // another codec's stream (e.g. a video track)
      serial = s;
      head = parseOpusHead(p);
    } else if (s !== serial) return;
    else if (!tagsSeen) tagsSeen = true; // OpusTags, always the second packet
    else packets.push(p);
  };
  let pos = 0;
  while (pos + 27 <= bytes.length) {
    if (ascii(bytes, pos, 4) !== 'OggS') throw new AudioFormatError(`Ogg page ${pos === 0 ? 'header' : `at byte ${pos}`} does not start with OggS`);
    if (bytes[pos + 4] !== 0) throw new AudioFormatError(`unsupported Ogg version ${bytes[pos + 4]}`);
    const s = new DataView(bytes.buffer, bytes.byteOffset + pos).getUint32(14, true);
    const nSegments = bytes[pos + 26]!;
    const table = pos + 27;
    let body = table + nSegments;
    if (body > bytes.length) break;
    let bodyLen = 0;
    for (let i = 0; i < nSegments; i++) bodyLen += bytes[table + i]!;
    if (body + bodyLen > bytes.length) break;
    // Packets are runs of 255-byte lacing values ended by a shorter one; a run open at the page's end continues.
    let parts = partial.get(s) ?? [];
    for (let i = 0; i < nSegments; i++) {
      const lace = bytes[table + i]!;
      parts.push(bytes.subarray(body, body + lace));
      body += lace;
      if (lace < 255) {
        onPacket(s, concat(parts));
        parts = [];
      }
    }
    partial.set(s, parts);
    pos = body;
  }
  if (!head) throw new AudioFormatError('Ogg stream holds no Opus track');
  return { head, packets };
}

// ------------------------------------------------------------------------------------------------------------ WebM

const EBML = 0x1a45dfa3;
/** Elements whose children are read in place (their size is ignored: MediaRecorder writes Segment and Cluster with unknown size). */
const MASTERS = new Set([0x18538067 /* Segment */, 0x1f43b675 /* Cluster */, 0x1654ae6b /* Tracks */, 0xae /* TrackEntry */, 0xe1 /* Audio */, 0xa0 /* BlockGroup */]);
const TRACK_ENTRY = 0xae;
const TRACK_NUMBER = 0xd7;
const CODEC_ID = 0x86;
const CODEC_PRIVATE = 0x63a2;
const CODEC_DELAY = 0x56aa;
const CHANNELS = 0x9f;
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;

interface Vint {
  value: number;
  length: number;
  unknown: boolean;
}

/** An EBML variable-length integer; `keepMarker` for element IDs, which keep their length bits. */
function readVint(b: Uint8Array, at: number, keepMarker: boolean): Vint | null {
  const first = b[at];
  if (first === undefined) return null;
  const length = Math.clz32(first) - 23;
  if (length < 1 || length > 8) throw new AudioFormatError(`invalid EBML number at byte ${at}`);
  if (at + length > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + b[at + i]!;
    allOnes &&= b[at + i] === 0xff;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

const readUint = (b: Uint8Array) => b.reduce((n, x) => n * 256 + x, 0);

interface WebmTrack {
  number: number;
  codec: string;
  codecPrivate?: Uint8Array;
  codecDelayNs: number;
  channels: number;
}

/**
 * Reads the Opus track of a WebM (Matroska) file: its OpusHead (CodecPrivate, else built from Channels and
 * CodecDelay) and the frames of its SimpleBlocks and Blocks. An element cut off at the end ends the stream.
 */
export function readWebmOpus(bytes: Uint8Array): OpusPackets {
  const first = readVint(bytes, 0, true);
  if (!first || first.value !== EBML) throw new AudioFormatError('not a WebM stream (no EBML header)');
  const tracks: WebmTrack[] = [];
  const blocks: Array<{ track: number; frame: Uint8Array }> = [];
  let pos = 0;
  while (pos < bytes.length) {
    const id = readVint(bytes, pos, true);
    if (!id) break;
    const size = readVint(bytes, pos + id.length, false);
    if (!size) break;
    const body = pos + id.length + size.length;
    if (MASTERS.has(id.value)) {
      if (id.value === TRACK_ENTRY) tracks.push({ number: 0, codec: '', codecDelayNs: 0, channels: 1 });
      pos = body;
      continue;
    }
    if (size.unknown) throw new AudioFormatError(`WebM element 0x${id.value.toString(16)} at byte ${pos} has unknown size`);
    if (body + size.value > bytes.length) break;
    const data = bytes.subarray(body, body + size.value);
    const track = tracks.at(-1);
    if (id.value === SIMPLE_BLOCK || id.value === BLOCK) blocks.push(readBlock(data, pos));
    else if (track && id.value === TRACK_NUMBER) track.number = readUint(data);
    else if (track && id.value === CODEC_ID) track.codec = ascii(data, 0, data.length);
    else if (track && id.value === CODEC_PRIVATE) track.codecPrivate = data;
    else if (track && id.value === CODEC_DELAY) track.codecDelayNs = readUint(data);
    else if (track && id.value === CHANNELS) track.channels = readUint(data);
    pos = body + size.value;
  }
  const opus = tracks.find((t) => t.codec === 'A_OPUS');
  if (!opus) throw new AudioFormatError(`WebM stream holds no Opus track (codecs: ${tracks.map((t) => t.codec).join(', ') || 'none'})`);
  const head = opus.codecPrivate
    ? parseOpusHead(opus.codecPrivate)
    : parseOpusHead(syntheticHead(opus.channels, Math.round((opus.codecDelayNs * 48000) / 1e9)));
  return { head, packets: blocks.filter((b) => b.track === opus.number).map((b) => b.frame) };
}

function readBlock(data: Uint8Array, at: number): { track: number; frame: Uint8Array } {
  const track = readVint(data, 0, false);
  if (!track || data.length < track.length + 3) throw new AudioFormatError(`WebM block at byte ${at} is too short`);
  const flags = data[track.length + 2]!;
  // MediaRecorder writes one frame per block; laced blocks (several frames) are not produced by browsers.
  if (flags & 0x06) throw new AudioFormatError(`WebM block at byte ${at} uses lacing, which is not supported`);
  return { track: track.value, frame: data.subarray(track.length + 3) };
}

function syntheticHead(channels: number, preSkip: number): Uint8Array {
  const b = new Uint8Array(19);
  b.set([...'OpusHead'].map((c) => c.charCodeAt(0)));
  b[8] = 1;
  b[9] = channels;
  new DataView(b.buffer).setUint16(10, preSkip, true);
  return b;
}

/** The bytes of `parts` in one array (the one part itself when there is one). */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------------- decode

/** Picks the container by its magic bytes (the mime type only says "Opus"). */
export function readOpusContainer(bytes: Uint8Array): OpusPackets {
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'OggS') return readOggOpus(bytes);
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return readWebmOpus(bytes);
  throw new AudioFormatError('Opus pre-connect buffer is neither WebM nor Ogg');
}

type OpusDecoderModule = typeof import('opus-decoder');
let decoderModule: Promise<OpusDecoderModule> | null = null;

/** Decodes an Opus recording (WebM or Ogg) to one 48 kHz interleaved frame. */
export async function decodeOpusRecording(bytes: Uint8Array): Promise<AudioFrame> {
  const { head, packets } = readOpusContainer(bytes);
  const { OpusDecoder } = await (decoderModule ??= import('opus-decoder'));
  const decoder = new OpusDecoder({
    channels: head.channels,
    streamCount: head.streamCount,
    coupledStreamCount: head.coupledStreamCount,
    channelMappingTable: head.channelMapping,
    preSkip: head.preSkip,
  });
  try {
    await decoder.ready;
    const out = decoder.decodeFrames(packets);
    if (out.errors.length && out.samplesDecoded === 0) throw new AudioFormatError(`Opus pre-connect buffer could not be decoded: ${out.errors[0]!.message}`);
    const n = out.samplesDecoded;
    const ch = out.channelData.length;
    const interleaved = new Float32Array(n * ch);
    for (let c = 0; c < ch; c++) {
      const data = out.channelData[c]!;
      for (let i = 0; i < n; i++) interleaved[i * ch + c] = data[i]!;
    }
    return new AudioFrame(floatToInt16(interleaved), out.sampleRate, ch, n);
  } finally {
    decoder.free();
  }
}
