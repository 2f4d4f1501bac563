/** `voicechart/noise`: noise cancellation for the input audio (pass one as `noiseCancellation`). */
export { rnnoise, type NoiseCancellation } from './rnnoise.ts';
