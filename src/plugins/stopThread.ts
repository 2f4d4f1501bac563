/**
 * Ending an onnxruntime inference thread safely. Terminating a worker thread while onnxruntime-node runs a model
 * call natively on it can take the whole process down, so the thread is asked to exit between model calls (a
 * `close` message, or `exit` with a code in tests, as a crash would); only one that does not answer within a second
 * is terminated.
 */
import type { Worker } from 'node:worker_threads';

export type ThreadStopMessage = { type: 'close' } | { type: 'exit'; code: number };

/** Asks a thread to exit and waits for it; terminates it after `graceMs` without an answer. */
export function stopThread(w: Worker, message: ThreadStopMessage, graceMs = 1000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (w.threadId < 0) return resolve(); // already gone
    const timer = setTimeout(() => void w.terminate(), graceMs);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    w.postMessage(message);
  });
}
