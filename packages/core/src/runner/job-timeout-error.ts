import { SpotjobsError } from '../errors.ts';

/**
 * A handler ran past `jobTimeoutMs`: its `ctx.signal` aborted with this error and the
 * attempt counts as failed (released with backoff, or dead-lettered once attempts run out).
 * Lives beside the runner because only the runner raises it.
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
