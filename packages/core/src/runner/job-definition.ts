import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Claim } from '../claims/claim.ts';
import type { ClaimStore } from '../claims/claim-store.ts';
import type { Logger } from '../ports/logger.ts';
import type { QueueMessage } from '../ports/queue.ts';
import type { JsonValue } from '../ports/table.ts';

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
   * Epoch ms by which the handler must have returned, once the runner is stopping or was
   * interrupted (spot notice, SIGTERM source, hibernation); `undefined` otherwise. `signal`
   * aborts before it (at once on an interruption, after the drain on a graceful stop): the
   * time in between is for `checkpoint` and a clean return. A handler still running at the
   * deadline is declared stuck and its message released anyway.
   */
  readonly deadline: number | undefined;
  /** The raw delivery, for attributes and the lease handle. */
  readonly message: QueueMessage;
  /**
   * Stores `state` (JSON) durably in the runner's `checkpoints` BlobStore under a key made
   * of the queue name and the message id, for the next attempt's `previousCheckpoint`. Only
   * while the job still owns its lease (and its claim): after a resume it waits for their
   * re-validation, and throws `LeaseLostError` if they moved on. Works after `signal`
   * aborted (that is when to call it). Throws `ValidationError` without a `checkpoints`
   * store, for a non-JSON state, or one above `maxCheckpointBytes`. Calls are serialised.
   */
  checkpoint(state: JsonValue): Promise<void>;
  /**
   * The last state stored by `checkpoint` for this message (by any earlier attempt, on any
   * host), or undefined. Loaded on first access only, so jobs that never read it cost no
   * request. Checkpoints are deleted once the job succeeds or is dead-lettered.
   */
  readonly previousCheckpoint: Promise<JsonValue | undefined>;
  /**
   * The job's claim (when its definition declares `claim`): its key and fencing `token`.
   * Write the token next to anything the job produces outside the claim's result, so a
   * reader can tell a stale writer's output. Renewed with the heartbeats (the handle changes).
   */
  readonly claim: Claim | undefined;
  /**
   * Re-validates the lease (one extension) and the claim (one renewal) now; throws
   * `LeaseLostError` (and aborts `signal`) if either moved on. Call it right before a side
   * effect that must not happen twice and that no claim fences.
   */
  assertOwnership(): Promise<void>;
}

/**
 * Exactly-once-in-effect for a job: the runner claims `key(job)` before the handler runs.
 * - The key was completed before: the delivery is a duplicate and is acked unread
 *   (`job:duplicate`).
 * - Another live owner holds it: the message is released with a delay of the claim's
 *   remaining TTL (`job:deferred`).
 * - Otherwise the handler runs with `ctx.claim`; the claim is renewed with the heartbeats
 *   and re-validated after a resume. On success the claim is completed first, with the
 *   handler's return value as its result when that is a plain JSON object, and only then is
 *   the message acked; a completion refused because the claim moved on abandons the job
 *   (no ack, no success event). Failures and interruptions release the claim.
 *
 * @example
 * ```ts
 * claim: { store: claims, key: (job) => `build#${job.hash}`, ttlMs: 60_000 }
 * ```
 */
export interface JobClaimOptions<Job = unknown> {
  readonly store: ClaimStore;
  /** The claim key for a job (a non-empty string of at most 1024 bytes). */
  key(job: Job): string;
  /** Default: the visibility timeout. Must exceed two heartbeat intervals. */
  readonly ttlMs?: number;
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
  /** Claim a key per job before running it (see `JobClaimOptions`). */
  readonly claim?: JobClaimOptions<StandardSchemaV1.InferOutput<Schema>>;
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
