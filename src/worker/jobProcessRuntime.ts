/**
 * How the runtime inside a job process is tuned for many small, mostly idle processes on one machine: the
 * environment the worker forks each job process with. Values the user set in the worker's environment win.
 * - MALLOC_ARENA_MAX=2: glibc gives every thread that mallocs its own arena (up to 8 × cores); a job process has
 *   node's, libuv's, V8's, onnxruntime's and rtc-node's threads, and each arena keeps its freed pages resident.
 * - MALLOC_TRIM_THRESHOLD_: freed memory at the top of the heap goes back to the kernel above 128 KiB instead of
 *   glibc's dynamic threshold (which grows to tens of MB once a large buffer, e.g. a model file, was freed).
 * - ORT_DISABLE_TELEMETRY=1: onnxruntime starts no telemetry provider.
 */
export const JOB_PROCESS_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_TRIM_THRESHOLD_: '131072',
  ORT_DISABLE_TELEMETRY: '1',
};

/** The job process's environment: the worker's, with the runtime tuning where the worker's sets none. */
export function jobProcessEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(JOB_PROCESS_ENV)) if (env[k] === undefined) env[k] = v;
  return env;
}

/**
 * Node/V8 flags the job process runs with: none. Measured on the built idle process (bench/lib/builtJobProcess.ts):
 * `--max-semi-space-size=1|2` saves 7–8 MB right after prewarm but nothing once V8's memory reducer has shrunk the
 * waiting process (~103 MB either way) and would make a running job scavenge more often (not measured: no lasting gain to pay for); `--v8-pool-size=1` and
 * `--single-threaded-gc` save ≤ 1.5 MB; `--lite-mode` saves 14 MB but runs without the optimising compiler.
 */
export const JOB_PROCESS_EXEC_ARGV: readonly string[] = [];
