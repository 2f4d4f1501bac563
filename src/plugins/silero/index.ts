export { SileroVAD, type SileroOptions } from './vad.ts';
export { SileroModel, defaultModelPath, type SileroInference, type WindowResult } from './model.ts';
export { SileroThreadModel } from './threadModel.ts';
