/**
 * Turns a received pre-connect buffer into frames in the room input's format. The stream's attributes say what
 * the client recorded: `sampleRate` and `channels` (livekit-client sends its microphone's settings); its mime type
 * says how: Opus (`audio/opus`, or any type with `codecs=opus`, e.g. `audio/webm;codecs=opus`) or else raw 16-bit
 * little-endian PCM, which the mobile SDKs send.
 */
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { AudioFormatError, AudioFrame } from '../audio/frame.ts';
import { rechunk, toMono } from '../audio/operators.ts';
import { resample } from '../audio/resample.ts';
import { decodeOpusRecording } from './preConnectOpus.ts';

export interface PreConnectBufferInfo {
  mimeType?: string;
  attributes?: Record<string, string>;
}

/** Frames of 50 ms, as the live microphone input (actors/roomAudioInput.ts) delivers them. */
const FRAME_MS = 50;

export const isOpusMimeType = (mime: string | undefined): boolean => !!mime && (mime === 'audio/opus' || mime.replace(/\s/g, '').includes('codecs=opus'));

function positiveIntAttribute(info: PreConnectBufferInfo, name: string): number {
  const raw = info.attributes?.[name];
  if (raw === undefined) throw new AudioFormatError(`pre-connect audio buffer has no ${name} attribute`);
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new AudioFormatError(`pre-connect audio buffer has an invalid ${name} attribute: ${JSON.stringify(raw)}`);
  return v;
}

/** The recording as it was sent: decoded Opus (48 kHz), or the PCM at the stream's `sampleRate` and `channels`. */
export async function decodePreConnectBuffer(bytes: Uint8Array, info: PreConnectBufferInfo): Promise<AudioFrame> {
  const sampleRate = positiveIntAttribute(info, 'sampleRate');
  const channels = positiveIntAttribute(info, 'channels');
  if (isOpusMimeType(info.mimeType)) return decodeOpusRecording(bytes);
  const mime = info.mimeType ?? '';
  // iOS Safari's MediaRecorder records MP4 (livekit-client then sends video/mp4): not PCM, and not readable here.
  if (/^(audio|video)\/(mp4|webm|ogg)/.test(mime)) throw new AudioFormatError(`pre-connect audio buffers of type ${mime} are not supported (Opus in WebM or Ogg, or raw PCM)`);
  const frameBytes = 2 * channels;
  if (bytes.length % frameBytes) throw new AudioFormatError(`PCM pre-connect buffer of ${bytes.length} bytes is not a whole number of ${channels}-channel 16-bit samples`);
  // Copy into an aligned buffer: a chunk's bytes may start at an odd offset, which an Int16Array view cannot.
  const data = new Int16Array(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = view.getInt16(2 * i, true);
  return new AudioFrame(data, sampleRate, channels, data.length / channels);
}

/** Duplicates a mono frame into `channels` channels. */
function upmix(f: AudioFrame, channels: number): AudioFrame {
  const out = new Int16Array(f.samplesPerChannel * channels);
  for (let i = 0; i < f.samplesPerChannel; i++) out.fill(f.data[i]!, i * channels, (i + 1) * channels);
  return new AudioFrame(out, f.sampleRate, channels, f.samplesPerChannel);
}

/** The recording at the input's rate and channel count, in 50 ms frames. */
export async function toInputFormat(recording: AudioFrame, sampleRate: number, channels: number): Promise<AudioFrame[]> {
  if (recording.samplesPerChannel === 0) return [];
  if (recording.channels !== channels && recording.channels !== 1 && channels !== 1) {
    throw new AudioFormatError(`cannot convert a ${recording.channels}-channel pre-connect buffer to ${channels} channels`);
  }
  return lastValueFrom(
    from([recording]).pipe(
      channels === 1 ? toMono() : map((f) => (f.channels === channels ? f : upmix(f, channels))),
      resample(sampleRate),
      rechunk(FRAME_MS),
      toArray(),
    ),
  );
}
