import type { Clock } from '@spotjobs/core';
import { CompileApiError, ServerUnreachableError } from './cli-errors.ts';

export interface TransientRetryOptions {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Keep retrying while the first failure of the current run is younger than this. */
  readonly budgetMs: number;
  /** Wait between tries (a larger `Retry-After` is honoured, up to 30 s). */
  readonly delayMs: number;
  /** Which failures are worth another try (default: any transient one). */
  readonly retryable?: (err: unknown) => boolean;
  /** Told before each wait, so the user sees why nothing moves. */
  readonly onRetry?: (err: Error, delayMs: number) => void;
}

const MAX_DELAY_MS = 30_000;

/**
 * Whether another try may help: no answer at all, or an API answer that says "later" (429, 502,
 * 503, 504). A refused key, bad input or a 500 will not change by asking again.
 *
 * @example
 * ```ts
 * isTransient(new CompileApiError({ status: 503, code: 'UNAVAILABLE', message: '…' })); // true
 * ```
 */
export function isTransient(err: unknown): boolean {
  return err instanceof ServerUnreachableError || (err instanceof CompileApiError && err.transient);
}

/**
 * Runs `call`, trying again after transient failures for up to `budgetMs` in a row: a build
 * waited on for hours should not fail over a server restart or a network blip. Every API call of
 * the CLI is safe to repeat (a submission of the same build is the same build).
 *
 * @example
 * ```ts
 * const view = await withTransientRetries(() => api.getBuild(id, signal), { signal, clock, budgetMs: 120_000, delayMs: 2000 });
 * ```
 */
export async function withTransientRetries<T>(
  call: () => Promise<T>,
  options: TransientRetryOptions,
): Promise<T> {
  const retryable = options.retryable ?? isTransient;
  let firstFailureAt: number | undefined;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (options.signal.aborted || !(err instanceof Error) || !retryable(err)) throw err;
      const now = options.clock.monotonic();
      firstFailureAt ??= now;
      if (now - firstFailureAt >= options.budgetMs) throw err;
      const asked =
        err instanceof CompileApiError && err.retryAfterSeconds !== undefined
          ? err.retryAfterSeconds * 1000
          : 0;
      const delay = Math.min(MAX_DELAY_MS, Math.max(options.delayMs, asked));
      options.onRetry?.(err, delay);
      await options.clock.sleep(delay, options.signal);
    }
  }
}
