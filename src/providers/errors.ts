/** Errors raised by model providers. `retryable` says whether a new attempt may succeed. */
export class APIError extends Error {
  override name = 'APIError';
  readonly retryable: boolean;
  readonly statusCode?: number;
  readonly body?: unknown;
  constructor(message: string, opts: { retryable?: boolean; statusCode?: number; body?: unknown; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.retryable = opts.retryable ?? true;
    this.statusCode = opts.statusCode;
    this.body = opts.body;
  }
}

export class APIConnectionError extends APIError {
  override name = 'APIConnectionError';
}

export class APITimeoutError extends APIConnectionError {
  override name = 'APITimeoutError';
}

export class APIStatusError extends APIError {
  override name = 'APIStatusError';
  constructor(message: string, opts: { statusCode: number; body?: unknown; retryable?: boolean; cause?: unknown }) {
    // 4xx other than 408/409/429 will not succeed on retry.
    const s = opts.statusCode;
    super(message, { ...opts, retryable: opts.retryable ?? (s === 408 || s === 409 || s === 429 || s >= 500) });
  }
}
