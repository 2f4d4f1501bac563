import type { AsyncLocalStorage } from 'node:async_hooks';

/**
 * `storage.run` for calls that need the storage only while they run: once no such call is running (a returned
 * promise counts until it settles), the storage is disabled. Node 20 runs its async hooks on every promise of the
 * process while any AsyncLocalStorage is enabled, and a storage once run stays enabled until disabled: without
 * this, the first hook or node override would make every later promise of the process pay for it.
 */
export function scopedRunner<T>(storage: AsyncLocalStorage<T>): <R>(value: T, fn: () => R) => R {
  let running = 0;
  const release = () => {
    if (--running === 0) storage.disable();
  };
  return <R>(value: T, fn: () => R): R => {
    running++;
    let result: R;
    try {
      result = storage.run(value, fn);
    } catch (e) {
      release();
      throw e;
    }
    if (result && typeof (result as { then?: unknown }).then === 'function') (result as unknown as PromiseLike<unknown>).then(release, release);
    else release();
    return result;
  };
}
