import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Logger } from '../ports/logger.ts';
import type { QueueMessage } from '../ports/queue.ts';

/**
 * What a handler gets besides its job.
 *
 * @example
 * ```ts
 * async handle(job, ctx) {
 *   ctx.logger.info({ pkg: job.packageExpression }, 'building');
 *   await build(job, { signal: ctx.signal });
 * }
 * ```
 */
export interface JobContext {
  /**
   * Aborts when the job must stop: its timeout passed (`JobTimeoutError`), its lease was
   * lost (`LeaseLostError`: never write a result then), or the runner is shutting down
   * (`InterruptedError`: return or checkpoint quickly). Pass it to every I/O call.
   */
  readonly signal: AbortSignal;
  readonly messageId: string;
  /** The delivery number, 1 on the first (the queue's receive count). */
  readonly attempt: number;
  /** The route the message took (`jobs` key, or the single job's `type`). */
  readonly type: string;
  /** The runner's logger with `messageId`, `type`, `attempt` and `queue` bound. */
  readonly logger: Logger;
  /**
   * Epoch ms at which a stopping runner aborts `signal` (after which the handler has
   * `abortGraceMs` to return); `undefined` while the runner is not stopping.
   */
  readonly deadline: number | undefined;
  /** The raw delivery, for attributes and the lease handle. */
  readonly message: QueueMessage;
}

/**
 * One kind of job: the schema its message body must pass and the handler that runs it.
 * Returning (or resolving) acks the message; throwing steers the runner: `RetryJobError`
 * (release after its delay), `PermanentJobError` (dead-letter), `InterruptedError`
 * (release at once, not a failure), anything else (retry with backoff).
 *
 * @example
 * ```ts
 * const resize = defineJob({
 *   schema: z.object({ type: z.literal('resize'), key: z.string() }),
 *   async handle(job, ctx) { await resizeImage(job.key, ctx.signal); },
 * });
 * ```
 */
export interface JobDefinition<Schema extends StandardSchemaV1 = StandardSchemaV1> {
  readonly schema: Schema;
  // Method syntax on purpose: it makes a definition for a specific schema assignable to
  // the general `JobDefinition` the runner stores.
  handle(job: StandardSchemaV1.InferOutput<Schema>, ctx: JobContext): unknown;
}

/** Routes keyed by the body's `type` field; each key gets its own schema and handler. */
export type JobRoutes<Schemas extends Record<string, StandardSchemaV1>> = {
  readonly [Type in keyof Schemas]: JobDefinition<Schemas[Type]>;
};

/** The single job of a queue that carries one kind of message (no `type` field needed). */
export interface SingleJobDefinition<Schema extends StandardSchemaV1 = StandardSchemaV1>
  extends JobDefinition<Schema> {
  /** The name used in logs, events and `ctx.type`. Default `default`. */
  readonly type?: string;
}

/**
 * Identity function that infers the handler's job type from the schema, for definitions
 * written apart from `Runner.create`.
 *
 * @example
 * ```ts
 * const ping = defineJob({ schema: z.object({ type: z.literal('ping') }), handle: () => {} });
 * ```
 */
export function defineJob<Schema extends StandardSchemaV1>(
  definition: JobDefinition<Schema>,
): JobDefinition<Schema> {
  return definition;
}
