export declare const KIND: { HELLO: 1; READY: 2; REFUSED: 3; BATCH: 4; RESULT: 5; FAILED: 6 };
export declare const MAX_FRAME: number;
export interface WireBatch {
  b: number;
  steps: Int32Array;
  state: Float32Array;
  input: Float32Array;
}
export interface WireResult {
  runs: number;
  merged: number;
  ms: number;
  probs: Float32Array;
  state: Float32Array;
}
export type WireMessage =
  | { kind: 1; modelPath: string }
  | { kind: 2; inputNames: string[] }
  | { kind: 3; message: string }
  | ({ kind: 4; id: number } & WireBatch)
  | ({ kind: 5; id: number } & WireResult)
  | { kind: 6; id: number; message: string };
export declare function encodeJson(kind: 1 | 2 | 3, value: object): Buffer;
export declare function encodeBatch(id: number, batch: WireBatch): Buffer;
export declare function encodeResult(id: number, result: WireResult): Buffer;
export declare function encodeFailed(id: number, message: string): Buffer;
export declare function decodeFrame(kind: number, payload: Buffer): WireMessage;
export declare function frameReader(): { push(chunk: Buffer): WireMessage[] };
