/**
 * Which Smart Turn export a model is, read from its declared input: Whisper features `input_features [1,80,800]`
 * (the features are computed here) or raw audio `audio [1,128000]` (the model computes its own). A batch dimension
 * may be symbolic. Anything else is refused with the inputs the model does declare.
 */
import { N_FRAMES, N_MELS, WINDOW_SAMPLES } from './logMel.ts';

export type SmartTurnInput = 'input_features' | 'audio';

/** The parts of onnxruntime's input metadata that matter here. */
export interface InputInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

const batchDim = (d: number | string | undefined) => d === 1 || d === -1 || typeof d === 'string';
const shapeText = (i: InputInfo) => (i.isTensor ? `${i.type ?? '?'}[${(i.shape ?? []).join(',')}]` : 'non-tensor');

export function detectSignature(inputs: readonly InputInfo[]): SmartTurnInput {
  const wanted: Record<SmartTurnInput, number[]> = { input_features: [N_MELS, N_FRAMES], audio: [WINDOW_SAMPLES] };
  if (inputs.length === 1) {
    const i = inputs[0]!;
    const dims = wanted[i.name as SmartTurnInput];
    const s = i.shape ?? [];
    if (dims && i.isTensor && i.type === 'float32' && s.length === dims.length + 1 && batchDim(s[0]) && dims.every((d, k) => s[k + 1] === d)) {
      return i.name as SmartTurnInput;
    }
  }
  const got = inputs.map((i) => `${i.name} ${shapeText(i)}`).join(', ') || 'none';
  throw new TypeError(
    `not a Smart Turn-shaped model: expected one float32 input, input_features [1,80,800] or audio [1,128000]; the model has ${got}`,
  );
}
