/** Messages between OnnxTurnDetector (main thread) and its inference thread. */

export interface WorkerInit {
  modelPath: string;
  normalizeAudio: boolean;
  intraOpNumThreads: number;
}

export type ToWorker =
  | { type: 'predict'; id: number; audio: Float32Array }
  /** Exit between model calls: `close` with code 0, `exit` (tests) with the given code, as a crash would. */
  | { type: 'close' }
  | { type: 'exit'; code: number };

export type FromWorker =
  | { type: 'ready'; input: 'input_features' | 'audio'; output: string }
  | { type: 'load_failed'; message: string }
  | { type: 'result'; id: number; probability: number; featuresMs: number; inferenceMs: number }
  | { type: 'failed'; id: number; message: string };
