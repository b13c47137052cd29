import { type Clock, systemClock, ValidationError } from '@spotjobs/core';

export interface AuthFailureLimiterOptions {
  /** Failed logins a client may make per window before it is refused; default 10. */
  readonly maxFailures?: number;
  /** The window, ms; default 60 000. A refused client waits until its window ends. */
  readonly windowMs?: number;
  /** Clients tracked at once; the oldest entry is dropped beyond it (memory stays bounded). Default 10 000. */
  readonly maxClients?: number;
  readonly clock?: Clock;
}

type Window = { startedAt: number; failures: number };

/**
 * Slows password guessing: after `maxFailures` failed logins from one client within
 * `windowMs`, that client is refused (429) until the window ends, whatever it sends. A
 * successful login does not reset the count, so a guesser cannot interleave a known account.
 *
 * @example
 * ```ts
 * const limiter = new AuthFailureLimiter({ maxFailures: 10, windowMs: 60_000 });
 * const wait = limiter.retryAfterMs(req.socket.remoteAddress ?? '');
 * if (wait > 0) return tooManyRequests(res, wait);
 * if (auth.check(header) === 'rejected') limiter.recordFailure(client);
 * ```
 */
export class AuthFailureLimiter {
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #clock: Clock;
  // Map keeps insertion order: the first entry is the oldest window, the one to drop.
  readonly #windows = new Map<string, Window>();

  constructor(options: AuthFailureLimiterOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    const issues: string[] = [];
    if (!Number.isInteger(this.#maxFailures) || this.#maxFailures < 1)
      issues.push('maxFailures must be an integer ≥ 1');
    if (!Number.isFinite(this.#windowMs) || this.#windowMs <= 0) issues.push('windowMs must be > 0');
    if (!Number.isInteger(this.#maxClients) || this.#maxClients < 1)
      issues.push('maxClients must be an integer ≥ 1');
    if (issues.length > 0) throw new ValidationError('invalid auth failure limiter options', issues);
  }

  /** How long `client` must wait before trying again: 0 when it may try now. */
  retryAfterMs(client: string): number {
    const window = this.#current(client);
    if (window === undefined || window.failures < this.#maxFailures) return 0;
    return window.startedAt + this.#windowMs - this.#clock.monotonic();
  }

  /** Counts one failed login for `client`. */
  recordFailure(client: string): void {
    const window = this.#current(client);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.#windows.size >= this.#maxClients) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
    this.#windows.set(client, { startedAt: this.#clock.monotonic(), failures: 1 });
  }

  #current(client: string): Window | undefined {
    const window = this.#windows.get(client);
    if (window && this.#clock.monotonic() - window.startedAt >= this.#windowMs) {
      this.#windows.delete(client);
      return undefined;
    }
    return window;
  }
}
