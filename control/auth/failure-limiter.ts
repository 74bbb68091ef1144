/** Settings of the failed-authentication limit. */
export interface FailureLimitOptions {
  /** Failures from one client within `windowMs` before it is refused. */
  maxFailures: number;
  windowMs: number;
  /** Clients tracked at most; the oldest is forgotten first, so a flood of addresses cannot grow memory. */
  maxClients: number;
}

/** Defaults: 20 bad tokens in a minute from one address, then 429 until the minute is over. */
export const DEFAULT_FAILURE_LIMIT: FailureLimitOptions = {
  maxFailures: 20,
  windowMs: 60_000,
  maxClients: 10_000,
};

/**
 * Counts failed authentications per client address in fixed windows (pure; the caller passes time).
 * A client past the limit is refused until its window ends, whatever it presents, so guessing
 * tokens costs a minute per 20 tries.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly o: FailureLimitOptions = DEFAULT_FAILURE_LIMIT) {}

  /** Milliseconds until `client` may try again, or 0 when it may now. */
  retryAfter(client: string, now: number): number {
    const w = this.windows.get(client);
    if (!w) return 0;
    if (now - w.start >= this.o.windowMs) {
      this.windows.delete(client);
      return 0;
    }
    return w.failures >= this.o.maxFailures ? w.start + this.o.windowMs - now : 0;
  }

  /** Records one failure of `client`. */
  fail(client: string, now: number): void {
    const w = this.windows.get(client);
    if (w && now - w.start < this.o.windowMs) {
      w.failures++;
      return;
    }
    this.windows.delete(client);
    if (this.windows.size >= this.o.maxClients) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(client, { start: now, failures: 1 });
  }
}
