import { map, type Observable } from 'rxjs';
import { AudioFormatError, type AudioFrame } from '../audio/frame.ts';
import type { AudioOutput } from '../io/types.ts';
import { resample } from '../audio/resample.ts';

/** Converts TTS audio to what the output wants: mono/stereo as given, resampled when the output names a rate. */
export function adaptAudioForOutput(frames: Observable<AudioFrame>, out: AudioOutput): Observable<AudioFrame> {
  if (!out.sampleRate) return frames;
  const rate = out.sampleRate;
  if (!Number.isInteger(rate) || rate <= 0) {
    return frames.pipe(map(() => { throw new AudioFormatError(`audio output ${out.label} asks for an invalid sample rate ${rate}`); }));
  }
  return frames.pipe(resample(rate));
}
