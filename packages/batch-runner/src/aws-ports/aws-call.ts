import {
  BackendError,
  type Clock,
  type SpotjobsError,
  systemClock,
  throwIfAborted,
  ValidationError,
} from '@spotjobs/core';
import { type AwsErrorContext, translateAwsError } from '@spotjobs/core/aws';

/**
 * How an AWS call is retried on top of the SDK's own retries: a long throttling burst or a
 * run of 5xx answers outlasts the SDK's three quick attempts, and a trigger that gives up
 * turns into a Lambda retry a minute later. Only errors translated to a retryable
 * `BackendError` (throttling, 5xx, network) are retried.
 */
export interface AwsRetryOptions {
  /** Attempts in all, 1–10 (default 4). */
  readonly attempts?: number;
  /** Delay ceiling before the 2nd attempt, ms; doubles per attempt (default 200). */
  readonly baseDelayMs?: number;
  /** Largest delay, ms (default 5000). */
  readonly maxDelayMs?: number;
  readonly clock?: Clock;
  /** Jitter source in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** Maps an SDK error to a more precise error of the caller's, before the generic translation. */
export type AwsErrorClassifier = (err: unknown) => SpotjobsError | undefined;

/**
 * The name an SDK v3 error goes by (`AlreadyExistsException`, `ValidationError`...):
 * modelled errors carry it as `name`, query-protocol ones also as `Code`.
 */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; Code?: unknown };
  if (typeof e.Code === 'string' && e.Code !== '') return e.Code;
  return typeof e.name === 'string' ? e.name : undefined;
}

/**
 * Runs one AWS SDK call with retries on throttling and server faults (full-jitter exponential
 * backoff on the injected clock), and translates what still fails: first through `classify`,
 * then `translateAwsError` from `@spotjobs/core/aws`. An abort is never retried.
 *
 * @example
 * ```ts
 * const out = await callAws((abortSignal) => client.send(new SubmitJobCommand(input), { abortSignal }),
 *   { operation: 'SubmitJob', key: input.jobName, signal }, retry);
 * ```
 */
export async function callAws<T>(
  call: (signal: AbortSignal | undefined) => Promise<T>,
  context: AwsErrorContext & { readonly classify?: AwsErrorClassifier },
  options: AwsRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 200;
  const ceiling = options.maxDelayMs ?? 5000;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10)
    throw new ValidationError('invalid retry options', [`attempts must be 1-10, got ${attempts}`]);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(context.signal);
    try {
      return await call(context.signal);
    } catch (err) {
      const translated = context.classify?.(err) ?? translateAwsError(err, context);
      const retryable = translated instanceof BackendError && translated.retryable;
      if (!retryable || attempt >= attempts || context.signal?.aborted) throw translated;
      const delay = Math.min(ceiling, base * 2 ** (attempt - 1)) * random();
      await clock.sleep(Math.round(delay), context.signal);
    }
  }
}
