/** Typed errors: one class for HTTP-facing failures, one for outside providers. Mapped to JSON in one place (src/index.ts). */

/** An error the HTTP layer turns into `{ error: { code, message } }` with `status`. */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 426 | 429 | 500 | 502 | 503 | 504,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }
}

/** A failure talking to an outside service. 4xx is not retryable except 408 and 429. */
export class ProviderError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly provider: string,
    message: string,
    readonly status: number | undefined,
    options: {
      retryable?: boolean;
      requestId?: string | undefined;
      cause?: unknown;
      code?: string | undefined;
      retryAfterMs?: number | undefined;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProviderError";
    this.requestId = options.requestId;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable ?? isRetryableStatus(status);
  }
  readonly requestId: string | undefined;
  /** The provider's short error code (`rate_limit_exceeded`, `insufficient_quota`, `timeout`, ...). */
  readonly code: string | undefined;
  /** How long the provider asked us to wait before asking again (`Retry-After`, `retry-after-ms`). */
  readonly retryAfterMs: number | undefined;
}

/** Network errors and timeouts (status undefined), 408, 429 and 5xx are worth retrying. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 408 || status === 429 || status >= 500;
}
