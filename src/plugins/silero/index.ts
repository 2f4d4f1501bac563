export { SileroVAD, type SileroOptions } from './vad.ts';
export { SileroModel, defaultModelPath } from './model.ts';
