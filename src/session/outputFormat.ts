import { map, type Observable } from 'rxjs';
import { AudioFormatError, type AudioFrame } from '../audio/frame.ts';
import type { AudioOutput } from '../io/types.ts';
import { resample } from '../audio/resample.ts';
import { preloadSpeex } from '../audio/speex.ts';

/**
 * Converts TTS audio to what the output wants: mono/stereo as given, resampled when the output names a rate.
 * Frames already at the output's rate pass through untouched and never wait for the resampler to load.
 */
export function adaptAudioForOutput(frames: Observable<AudioFrame>, out: AudioOutput): Observable<AudioFrame> {
  if (!out.sampleRate) return frames;
  const rate = out.sampleRate;
  if (!Number.isInteger(rate) || rate <= 0) {
    return frames.pipe(map(() => { throw new AudioFormatError(`audio output ${out.label} asks for an invalid sample rate ${rate}`); }));
  }
  return frames.pipe(resample(rate));
}

/**
 * Called when a session starts (and when its audio output changes): when the output names a rate other than the
 * TTS's, starts loading the resampler in the background, so the first reply does not wait for it. Cheap and
 * idempotent; with matching rates (or no rate named) nothing is loaded.
 */
export function prepareAudioOutput(out: AudioOutput | null | undefined, ttsSampleRate: number | undefined): void {
  if (out?.sampleRate && out.sampleRate !== ttsSampleRate) preloadSpeex();
}
