import type { StandardSchemaV1 } from '@standard-schema/spec';

/** The bench's message body (`fillQueue` sends `{ n, pad }`). */
export interface BenchJob {
  readonly n: number;
}

/**
 * A minimal Standard Schema for the bench's jobs: the core's own per-message cost (JSON parse,
 * validate, route) is what gets measured, not a validation library's.
 *
 * @example
 * ```ts
 * await Runner.create({ queue, job: { schema: benchJobSchema, handle: () => {} } });
 * ```
 */
export const benchJobSchema: StandardSchemaV1<unknown, BenchJob> = {
  '~standard': {
    version: 1,
    vendor: 'spotjobs-bench',
    validate: (value) =>
      typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'
        ? { value: value as BenchJob }
        : { issues: [{ message: 'expected { n: number }' }] },
  },
};
