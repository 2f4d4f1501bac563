import { Observable } from 'rxjs';
import { APIConnectionError, APIError, APIStatusError, APITimeoutError } from './errors.ts';

/** Per-model connection options (defaults as in LiveKit Agents). */
export interface APIConnectOptions {
  maxRetry: number;
  /** ms between attempts (the first retry comes sooner, see `withRetries`). */
  retryInterval: number;
  /** ms an attempt may take to produce its first value, and between two values. */
  timeout: number;
}

export const DEFAULT_API_CONNECT_OPTIONS: APIConnectOptions = { maxRetry: 3, retryInterval: 2000, timeout: 10000 };

export const connectOptions = (o?: Partial<APIConnectOptions>): APIConnectOptions => ({ ...DEFAULT_API_CONNECT_OPTIONS, ...o });

/** A provider's own options with a call's overrides on top. */
export const withOverrides = (own: APIConnectOptions, call?: Partial<APIConnectOptions>): APIConnectOptions => (call ? { ...own, ...call } : own);

/** An APIError may carry how long the server asked us to wait (429 Retry-After). */
export type RetryableError = APIError & { retryAfterMs?: number };

const CONNECTION_CODES = /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT)$/;

/** A network failure anywhere in the error's cause chain: by errno code or by the words fetch and the SDKs use. */
function isConnectionFailure(e: unknown): boolean {
  for (let c = e as { message?: string; code?: string; cause?: unknown } | undefined, depth = 0; c && depth < 5; c = c.cause as typeof c, depth++) {
    if (typeof c.code === 'string' && CONNECTION_CODES.test(c.code)) return true;
    if (/fetch failed|connection error|ECONNRESET|ECONNREFUSED|socket|other side closed|\bterminated\b/i.test(c.message ?? '')) return true;
  }
  return false;
}

/**
 * Maps errors from the SDKs (openai, groq-sdk), fetch and aborts to our APIError family, keeping the HTTP status,
 * the body and a Retry-After delay when there is one.
 */
export function toAPIError(e: unknown): RetryableError {
  if (e instanceof APIError) return e;
  const err = e as { name?: string; message?: string; status?: number; error?: unknown; headers?: unknown; code?: string };
  const name = err?.name ?? '';
  const message = err?.message ?? String(e);
  if (typeof err?.status === 'number') {
    const out: RetryableError = new APIStatusError(message, { statusCode: err.status, body: err.error, cause: e });
    const h = err.headers as { get?: (k: string) => string | null } | Record<string, string> | undefined;
    const ra = typeof (h as { get?: unknown })?.get === 'function' ? (h as { get(k: string): string | null }).get('retry-after') : (h as Record<string, string> | undefined)?.['retry-after'];
    if (ra) {
      const secs = Number(ra);
      const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(ra) - Date.now();
      if (ms >= 0) out.retryAfterMs = ms;
    }
    return out;
  }
  if (/timeout/i.test(name) || err?.code === 'ETIMEDOUT') return new APITimeoutError(message, { cause: e });
  if (e instanceof SyntaxError) return new APIError(`malformed response: ${message}`, { retryable: false, cause: e });
  // The SDKs wrap a refused or reset connection ("Connection error.", class APIConnectionError, the errno in `cause`).
  if (/connection/i.test(name) || /connection/i.test(err?.constructor?.name ?? '') || isConnectionFailure(e)) {
    return new APIConnectionError(message, { cause: e });
  }
  return new APIError(message, { retryable: false, cause: e });
}

/**
 * Runs `attempt`, retrying on retryable errors: only while the failing attempt has emitted nothing (a reply that
 * already produced text is never silently repeated), up to `maxRetry` times. The first retry comes after
 * min(100 ms, retryInterval), later ones after `retryInterval`, or after the server's Retry-After. Each attempt must
 * produce a value within `timeout` ms (and then keep producing within `timeout`), else it fails with
 * APITimeoutError. Retried failures go to `onError(err, true)`; the last one is the Observable's error.
 * Unsubscribing aborts the attempt in flight (its AbortSignal) and any pending wait.
 */
export function withRetries<T>(
  attempt: (signal: AbortSignal, attempt: number) => Observable<T>,
  conn: APIConnectOptions,
  onError?: (err: Error, recoverable: boolean) => void,
): Observable<T> {
  return new Observable<T>((out) => {
    let n = 0;
    let ac: AbortController | null = null;
    let inner: { unsubscribe(): void } | null = null;
    let idle: ReturnType<typeof setTimeout> | null = null;
    let wait: ReturnType<typeof setTimeout> | null = null;
    let closed = false;
    let settled = false; // completed or failed: nothing is in flight, so there is nothing to abort

    const clearIdle = () => {
      if (idle) clearTimeout(idle);
      idle = null;
    };
    const run = () => {
      if (closed) return;
      const controller = new AbortController();
      ac = controller;
      let emitted = false;
      let failed = false;
      // One timer per attempt, not one per value: a value only moves the deadline, the timer re-arms itself.
      let deadline = 0;
      const fail = (e: unknown) => {
        if (failed || closed) return;
        failed = true;
        clearIdle();
        inner?.unsubscribe();
        controller.abort();
        const err = toAPIError(e);
        if (!emitted && err.retryable && n < conn.maxRetry) {
          onError?.(err, true);
          const delay = err.retryAfterMs ?? (n === 0 ? Math.min(100, conn.retryInterval) : conn.retryInterval);
          n++;
          wait = setTimeout(run, delay);
        } else {
          closed = settled = true;
          out.error(err);
        }
      };
      const onIdle = () => {
        const left = deadline - performance.now();
        if (left > 1) idle = setTimeout(onIdle, left);
        else fail(new APITimeoutError(`no response within ${conn.timeout} ms`));
      };
      deadline = performance.now() + conn.timeout;
      idle = setTimeout(onIdle, conn.timeout);
      inner = attempt(controller.signal, n).subscribe({
        next: (v) => {
          if (failed || closed) return;
          emitted = true;
          deadline = performance.now() + conn.timeout;
          out.next(v);
        },
        error: fail,
        complete: () => {
          if (failed || closed) return;
          clearIdle();
          closed = settled = true;
          out.complete();
        },
      });
    };
    run();
    return () => {
      closed = true;
      clearIdle();
      if (wait) clearTimeout(wait);
      inner?.unsubscribe();
      // Aborting a finished request would only build an AbortError (a DOMException with a stack) for nobody.
      if (!settled) ac?.abort();
    };
  });
}
