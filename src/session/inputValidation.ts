import { Observable } from 'rxjs';
import { AudioFormatError, AudioFrame } from '../audio/frame.ts';

/** What a caller may hand the session as a frame: rtc-node frames, our own, or something shaped like one. */
interface FrameLike {
  data?: unknown;
  sampleRate?: unknown;
  channels?: unknown;
  samplesPerChannel?: unknown;
}

type Verdict = { frame: AudioFrame; problem?: string } | { frame: null; problem: string };

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Float samples in [-1, 1] to PCM16; NaN and ±Infinity become silence and clip. */
function floatToPcm(data: Float32Array | Float64Array): { pcm: Int16Array; bad: number } {
  const pcm = new Int16Array(data.length);
  let bad = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!Number.isFinite(x)) {
      bad++;
      continue;
    }
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(x * 32767)));
  }
  return { pcm, bad };
}

/** Checks one frame; converts what has one sensible reading, drops the rest with the reason. */
export function checkFrame(f: unknown): Verdict {
  if (f === null || typeof f !== 'object') return { frame: null, problem: `not an audio frame (${f === null ? 'null' : typeof f})` };
  const { data, sampleRate, channels, samplesPerChannel } = f as FrameLike;
  if (!isPositiveInt(sampleRate)) return { frame: null, problem: `invalid sample rate ${String(sampleRate)}` };
  if (!isPositiveInt(channels)) return { frame: null, problem: `invalid channel count ${String(channels)}` };
  if (typeof samplesPerChannel !== 'number' || !Number.isInteger(samplesPerChannel) || samplesPerChannel < 0) {
    return { frame: null, problem: `invalid samplesPerChannel ${String(samplesPerChannel)}` };
  }
  let pcm: Int16Array;
  let problem: string | undefined;
  if (data instanceof Int16Array) pcm = data;
  else if (data instanceof Float32Array || data instanceof Float64Array) {
    const r = floatToPcm(data);
    pcm = r.pcm;
    problem = r.bad ? `float samples with ${r.bad} non-finite values (converted to PCM16, those set to silence)` : 'float samples (converted to PCM16)';
  } else if (data instanceof Uint8Array || data instanceof Buffer) {
    if (data.byteLength % 2 !== 0) return { frame: null, problem: `${data.byteLength} bytes cannot hold 16-bit samples` };
    // Bytes are read as little-endian PCM16 (what every PCM wire format here carries).
    const copy = new Uint8Array(data);
    pcm = new Int16Array(copy.buffer, 0, copy.byteLength / 2);
    problem = 'bytes instead of Int16Array samples (read as little-endian PCM16)';
  } else return { frame: null, problem: `frame data is ${data === null ? 'null' : (data as object)?.constructor?.name ?? typeof data}, not Int16Array` };
  if (pcm.length % channels !== 0) return { frame: null, problem: `${pcm.length} samples do not divide into ${channels} channels` };
  if (pcm.length !== channels * samplesPerChannel) {
    return { frame: null, problem: `frame holds ${pcm.length} samples but declares ${channels} × ${samplesPerChannel}` };
  }
  return { frame: f instanceof AudioFrame && pcm === data ? f : new AudioFrame(pcm, sampleRate, channels, samplesPerChannel), problem };
}

/**
 * A filter that passes each kind of problem once: problems that differ only in their numbers are one kind, so a
 * stream of bad frames is one report, not thousands.
 */
export function oncePerKind(): (problem: string) => boolean {
  const seen = new Set<string>();
  return (problem) => {
    const key = problem.replace(/\d+/g, 'N');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

/**
 * The input boundary: every frame is validated before recognition sees it. A malformed frame is dropped or
 * converted, and each kind of problem is reported once (a stream of bad frames is one error, not thousands).
 */
export function validatedInput(audio: Observable<unknown>, report: (e: AudioFormatError) => void): Observable<AudioFrame> {
  return new Observable<AudioFrame>((sub) => {
    const firstOfKind = oncePerKind();
    return audio.subscribe({
      next: (f) => {
        const v = checkFrame(f);
        if (v.problem && firstOfKind(v.problem)) report(new AudioFormatError(`audio input: ${v.problem}${v.frame ? '' : '; frame dropped'}`));
        if (v.frame) sub.next(v.frame);
      },
      error: (e) => sub.error(e),
      complete: () => sub.complete(),
    });
  });
}
