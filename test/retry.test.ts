import { Observable, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APIConnectionError, APITimeoutError } from '../src/providers/errors.ts';
import { withRetries } from '../src/providers/retry.ts';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

const conn = { maxRetry: 2, retryInterval: 1000, timeout: 100 };

describe('withRetries in virtual time', () => {
  it('each value moves the idle deadline; silence after output is a timeout error, never a retry', () => {
    const values = new Subject<number>();
    let attempts = 0;
    const got: number[] = [];
    let error: Error | undefined;
    withRetries(() => (attempts++, values), conn).subscribe({ next: (v) => got.push(v), error: (e) => (error = e) });
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(90); // under the timeout each time, 450 ms in all
      values.next(i);
    }
    expect(error).toBeUndefined();
    vi.advanceTimersByTime(99);
    expect(error).toBeUndefined();
    vi.advanceTimersByTime(2);
    expect(error).toBeInstanceOf(APITimeoutError);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(attempts).toBe(1);
  });

  it('a silent first attempt is retried; unsubscribing aborts only what is still in flight', () => {
    const signals: AbortSignal[] = [];
    let attempts = 0;
    const errors: string[] = [];
    const sub = withRetries(
      (signal) => {
        signals.push(signal);
        return new Observable<string>((o) => {
          if (++attempts === 2) o.error(new APIConnectionError('reset'));
        });
      },
      conn,
      (e) => errors.push(e.name),
    ).subscribe();
    vi.advanceTimersByTime(100); // attempt 1 times out → retry after 100 ms
    vi.advanceTimersByTime(100); // attempt 2 fails at once → retry after 1000 ms
    vi.advanceTimersByTime(1000); // attempt 3 pending
    expect(errors).toEqual(['APITimeoutError', 'APIConnectionError']);
    expect(signals.map((s) => s.aborted)).toEqual([true, true, false]);
    sub.unsubscribe();
    expect(signals[2]!.aborted).toBe(true);

    // A completed call leaves its signal alone: there is nothing left to abort.
    let done: AbortSignal | undefined;
    withRetries((signal) => ((done = signal), new Observable<number>((o) => (o.next(1), o.complete()))), conn).subscribe().unsubscribe();
    expect(done!.aborted).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
