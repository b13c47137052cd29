/**
 * The error classes of `@spotjobs/core`. Every error has a stable `code` (safe to match
 * on across versions) and always passes on its `cause`. Adapters translate SDK and
 * driver errors into these, so callers never import `@aws-sdk/*` to handle a failure.
 *
 * @example
 * ```ts
 * try { await table.put(item, { ifAbsent: true }, signal); }
 * catch (err) { if (err instanceof ConditionFailedError) return 'duplicate'; throw err; }
 * ```
 */
export abstract class SpotjobsError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A conditional write lost: the item exists (`ifAbsent`) or its version moved on (`ifVersion`). */
export class ConditionFailedError extends SpotjobsError {
  readonly code = 'CONDITION_FAILED';
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(`conditional write on ${key} failed`, options);
    this.key = key;
  }
}

/** A key, object or queue that does not exist. */
export class NotFoundError extends SpotjobsError {
  readonly code = 'NOT_FOUND';
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(`${key} not found`, options);
    this.key = key;
  }
}

/** An option, message or request that fails validation at a boundary. */
export class ValidationError extends SpotjobsError {
  readonly code = 'VALIDATION';
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message, options);
    this.issues = issues;
  }
}

/** The backend refused or failed the call (network, throttling, server error). Safe to retry. */
export class BackendError extends SpotjobsError {
  readonly code = 'BACKEND';
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = retryable;
  }
}

/** The call was cancelled through its AbortSignal. */
export class AbortedError extends SpotjobsError {
  readonly code = 'ABORTED';
  constructor(options?: { cause?: unknown }) {
    super('operation aborted', options);
  }
}

/** A lease or claim this worker held has passed to someone else; its work must not be written. */
export class LeaseLostError extends SpotjobsError {
  readonly code = 'LEASE_LOST';
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(`lease on ${key} lost`, options);
    this.key = key;
  }
}

/**
 * Thrown by a handler to ask for another attempt after `delaySeconds`.
 *
 * @example
 * ```ts
 * if (response.status === 429) throw new RetryJobError('upstream throttled', { delaySeconds: 30 });
 * ```
 */
export class RetryJobError extends SpotjobsError {
  readonly code = 'RETRY_JOB';
  readonly delaySeconds: number | undefined;
  constructor(message: string, options: { delaySeconds?: number; cause?: unknown } = {}) {
    super(message, options);
    this.delaySeconds = options.delaySeconds;
  }
}

/**
 * Thrown by a handler when the job can never succeed: the message goes to the dead-letter
 * queue with this error's message as the reason, and is never retried.
 *
 * @example
 * ```ts
 * if (!image.isDecodable) throw new PermanentJobError('not an image');
 * ```
 */
export class PermanentJobError extends SpotjobsError {
  readonly code = 'PERMANENT_JOB';
}

/**
 * The job stopped because its host is going away (interruption, shutdown). The message is
 * released at once and the attempt is not counted as a failure.
 */
export class InterruptedError extends SpotjobsError {
  readonly code = 'INTERRUPTED';
}

/**
 * A handler ran past `jobTimeoutMs`: its `ctx.signal` aborted with this error and the
 * attempt counts as failed (released with backoff, or dead-lettered once attempts run out).
 *
 * @example
 * ```ts
 * runner.on('job:retried', (job) => {
 *   if (job.error instanceof JobTimeoutError) console.warn(`${job.messageId} took over ${job.error.timeoutMs} ms`);
 * });
 * ```
 */
export class JobTimeoutError extends SpotjobsError {
  readonly code = 'JOB_TIMEOUT';
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`job exceeded its timeout of ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** Whether `err` is an abort: ours, the platform's `AbortError`, or a `TimeoutError` from `AbortSignal.timeout`. */
export function isAbortError(err: unknown): boolean {
  return (
    err instanceof AbortedError ||
    (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
  );
}

/** Throws `AbortedError` (with the signal's reason as cause) when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
}
