// Retry with exponential backoff for transient failures (429, rate-limit 403s, 5xx).

export interface RetryOptions {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep(ms: number): void;
  isRetryable(error: unknown): boolean;
  /** Server-requested wait (Retry-After), if the error carries one. */
  retryAfterMs?(error: unknown): number | null;
}

export function withRetry<T>(call: () => T, options: RetryOptions): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return call();
    } catch (error) {
      if (attempt >= options.attempts || !options.isRetryable(error)) throw error;
      const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const jitter = Math.floor(backoff * 0.2 * ((attempt * 7919) % 10) / 10);
      options.sleep(Math.max(options.retryAfterMs?.(error) ?? 0, backoff + jitter));
    }
  }
}
