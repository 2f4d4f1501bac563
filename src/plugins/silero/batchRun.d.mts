export declare const CONTEXT: 64;
export declare const WINDOW: 512;
export declare const IN: 576;
export declare const STATE: 128;
export interface Batch {
  b: number;
  steps: Int32Array;
  input: Float32Array;
  state: Float32Array;
}
export interface BatchRun {
  results: Array<{ probs: Float32Array; state: Float32Array }>;
  runs: number;
  ms: number;
}
export declare function runBatches(session: unknown, Tensor: unknown, batches: Batch[]): Promise<BatchRun>;
export declare const SESSION_OPTIONS: {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  executionMode: 'sequential';
  graphOptimizationLevel: 'all';
};
