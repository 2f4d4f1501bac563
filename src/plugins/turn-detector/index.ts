export { OnnxTurnDetector, OnnxTurnDetectorError, type OnnxTurnDetectorOptions } from './onnxTurnDetector.ts';
export { detectSignature, type SmartTurnInput } from './signature.ts';
export { whisperLogMel, lastWindow, normalizeWindow } from './logMel.ts';
export type { AudioTurnDetector, TextTurnDetector, TurnDetector, TurnDetectorContext } from '../../turn/types.ts';
