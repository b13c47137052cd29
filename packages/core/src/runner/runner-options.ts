import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from '../errors.ts';
import { silentLogger } from '../observability/create-logger.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { Queue } from '../ports/queue.ts';
import { QueueLimits } from '../ports/queue.ts';
import { systemClock } from '../time/system-clock.ts';
import { type BackoffOptions, type BackoffPolicy, defaultBackoff } from './backoff.ts';
import {
  type CompiledInterruptions,
  compileInterruptions,
  type InterruptionOptions,
} from './interruption-options.ts';
import type { JobRouting } from './job-decoder.ts';
import type { JobDefinition, JobRoutes, SingleJobDefinition } from './job-definition.ts';

/** Everything but the jobs. Times are in ms, except the queue's own units (seconds). */
export interface RunnerSettings {
  readonly queue: Queue;
  /** Jobs run at once. Default 10. Not capped by SQS's batch of 10: polls repeat while slots are free. */
  readonly concurrency?: number;
  /** Lease per delivery, and what each heartbeat renews. Default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** How often heartbeats look for leases near expiry. Default visibility / 6. */
  readonly heartbeatIntervalMs?: number;
  /** Leases with at most this much left are extended. Default visibility / 2. */
  readonly heartbeatThresholdMs?: number;
  /** A handler still running after this is aborted (`JobTimeoutError`) and its attempt fails. Default 15 min. */
  readonly jobTimeoutMs?: number;
  /** After its signal aborts, how long a handler may take to return before it is declared stuck. Default 5 s. */
  readonly abortGraceMs?: number;
  /** Deliveries after which a failing job is dead-lettered instead of retried. Default 5. */
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  /** Larger bodies are dead-lettered unread. Default 1 MiB (SQS's limit). */
  readonly maxBodyBytes?: number;
  /** Default drain period of `stop()`. Default 25 s (fits ECS's default 30 s stop timeout). */
  readonly shutdownGraceMs?: number;
  /** Long-poll wait per receive, 0–20 s. Default 20. */
  readonly pollWaitSeconds?: number;
  /** How long a partial ack or release batch waits for more entries. Default 5 ms. */
  readonly batchLingerMs?: number;
  /**
   * With fewer free slots than a full receive (10) and jobs still running, how long to wait
   * for more before polling. Default 25 ms; 0 polls on the first free slot.
   */
  readonly pollLingerMs?: number;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Default: `systemClock`. */
  readonly clock?: Clock;
  /** Stop on SIGTERM / SIGINT. Default false (a library must not grab signals); daemons turn it on. */
  readonly handleSignals?: boolean;
  /** Source of jitter in [0, 1). Default `Math.random`; tests pin it. */
  readonly random?: () => number;
  /** React to spot notices, SIGTERM, hibernation and resumes. Default: no sources watched. */
  readonly interruptions?: InterruptionOptions;
  /** Where `ctx.checkpoint` stores job states. Without it, `ctx.checkpoint` throws `ValidationError`. */
  readonly checkpoints?: BlobStore;
  /** Largest serialised checkpoint state, bytes. Default 1 MiB, at most 10 MiB. */
  readonly maxCheckpointBytes?: number;
}

/** Options for a queue whose bodies are JSON objects routed by their `type` field. */
export interface TypedRunnerOptions<Schemas extends Record<string, StandardSchemaV1>> extends RunnerSettings {
  readonly jobs: JobRoutes<Schemas>;
  readonly job?: undefined;
}

/** Options for a queue carrying one kind of message (no `type` field needed). */
export interface SingleJobRunnerOptions<Schema extends StandardSchemaV1> extends RunnerSettings {
  readonly job: SingleJobDefinition<Schema>;
  readonly jobs?: undefined;
}

export type RunnerOptions =
  | TypedRunnerOptions<Record<string, StandardSchemaV1>>
  | SingleJobRunnerOptions<StandardSchemaV1>;

/** Options after `compileRunnerOptions`: complete, checked, frozen. */
export interface CompiledRunnerOptions {
  readonly queue: Queue;
  readonly routing: JobRouting;
  readonly concurrency: number;
  readonly visibilitySeconds: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatThresholdMs: number;
  readonly jobTimeoutMs: number;
  readonly abortGraceMs: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  readonly maxBodyBytes: number;
  readonly shutdownGraceMs: number;
  readonly pollWaitSeconds: number;
  readonly batchLingerMs: number;
  readonly pollLingerMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly handleSignals: boolean;
  readonly random: () => number;
  readonly interruptions: CompiledInterruptions | undefined;
  readonly checkpoints: BlobStore | undefined;
  readonly maxCheckpointBytes: number;
}

const knownKeys = new Set<string>([
  'queue',
  'jobs',
  'job',
  'concurrency',
  'visibilityTimeoutSeconds',
  'heartbeatIntervalMs',
  'heartbeatThresholdMs',
  'jobTimeoutMs',
  'abortGraceMs',
  'maxAttempts',
  'backoff',
  'maxBodyBytes',
  'shutdownGraceMs',
  'pollWaitSeconds',
  'batchLingerMs',
  'pollLingerMs',
  'logger',
  'clock',
  'handleSignals',
  'random',
  'interruptions',
  'checkpoints',
  'maxCheckpointBytes',
]);

const maxCheckpointLimit = 10 * 1_048_576;

const maxLeaseMs = QueueLimits.maxVisibilitySeconds * 1000;

/**
 * Fills defaults, checks every invariant once and freezes the result, so the runner never
 * re-validates on a hot path. All problems are reported together.
 *
 * @example
 * ```ts
 * const compiled = compileRunnerOptions({ queue, job: { schema, handle } });
 * compiled.heartbeatIntervalMs; // 5000 with the default 30 s visibility
 * ```
 */
export function compileRunnerOptions(options: RunnerOptions): CompiledRunnerOptions {
  const issues: string[] = [];
  const check = (ok: boolean, issue: string) => {
    if (!ok) issues.push(issue);
  };
  const given = (options ?? {}) as RunnerOptions;
  for (const key of Object.keys(given)) check(knownKeys.has(key), `unknown option "${key}"`);

  const queue = given.queue;
  check(
    typeof queue === 'object' && queue !== null && typeof queue.consume === 'function',
    'queue must implement the Queue port',
  );
  const routing = compileRouting(given, issues);

  const visibilitySeconds = given.visibilityTimeoutSeconds ?? 30;
  check(
    isInt(visibilitySeconds, 1, QueueLimits.maxVisibilitySeconds),
    `visibilityTimeoutSeconds must be a whole number in 1..${QueueLimits.maxVisibilitySeconds}`,
  );
  const visibilityMs = visibilitySeconds * 1000;
  const heartbeatIntervalMs = given.heartbeatIntervalMs ?? Math.floor(visibilityMs / 6);
  const heartbeatThresholdMs = given.heartbeatThresholdMs ?? Math.floor(visibilityMs / 2);
  check(isNumber(heartbeatIntervalMs, 1, maxLeaseMs), 'heartbeatIntervalMs must be positive');
  // A lease must get at least one tick while inside the threshold, and the threshold must
  // leave time before expiry, or heartbeats arrive after the message was handed out again.
  check(
    heartbeatIntervalMs < heartbeatThresholdMs && heartbeatThresholdMs < visibilityMs,
    'heartbeatIntervalMs < heartbeatThresholdMs < visibilityTimeoutSeconds * 1000 must hold',
  );

  const concurrency = given.concurrency ?? 10;
  check(isInt(concurrency, 1, 100_000), 'concurrency must be a whole number >= 1');
  const jobTimeoutMs = given.jobTimeoutMs ?? 15 * 60_000;
  check(
    isNumber(jobTimeoutMs, 1, maxLeaseMs),
    'jobTimeoutMs must be in 1..43 200 000 (SQS keeps a lease at most 12 h)',
  );
  const abortGraceMs = given.abortGraceMs ?? 5_000;
  check(isNumber(abortGraceMs, 0, maxLeaseMs), 'abortGraceMs must be >= 0');
  const maxAttempts = given.maxAttempts ?? 5;
  check(isInt(maxAttempts, 1, 1_000_000), 'maxAttempts must be a whole number >= 1');
  const maxBodyBytes = given.maxBodyBytes ?? QueueLimits.maxBodyBytes;
  check(
    isInt(maxBodyBytes, 1, QueueLimits.maxBodyBytes),
    `maxBodyBytes must be in 1..${QueueLimits.maxBodyBytes}`,
  );
  const shutdownGraceMs = given.shutdownGraceMs ?? 25_000;
  check(isNumber(shutdownGraceMs, 0, maxLeaseMs), 'shutdownGraceMs must be >= 0');
  const pollWaitSeconds = given.pollWaitSeconds ?? QueueLimits.maxWaitSeconds;
  check(
    isInt(pollWaitSeconds, 0, QueueLimits.maxWaitSeconds),
    'pollWaitSeconds must be a whole number in 0..20',
  );
  const batchLingerMs = given.batchLingerMs ?? 5;
  check(isNumber(batchLingerMs, 0, 60_000), 'batchLingerMs must be in 0..60 000');
  const pollLingerMs = given.pollLingerMs ?? 25;
  check(isNumber(pollLingerMs, 0, 60_000), 'pollLingerMs must be in 0..60 000');

  const backoff: BackoffPolicy = { ...defaultBackoff, ...stripUndefined(given.backoff ?? {}) };
  check(
    isNumber(backoff.initialSeconds, 0, QueueLimits.maxVisibilitySeconds),
    'backoff.initialSeconds must be >= 0',
  );
  check(
    isNumber(backoff.maxSeconds, backoff.initialSeconds, QueueLimits.maxVisibilitySeconds),
    'backoff.maxSeconds must be >= backoff.initialSeconds and <= 43 200',
  );
  check(isNumber(backoff.multiplier, 1, 1_000), 'backoff.multiplier must be >= 1');
  check(['full', 'equal', 'none'].includes(backoff.jitter), 'backoff.jitter must be full, equal or none');

  const logger = given.logger ?? silentLogger;
  const clock = given.clock ?? systemClock;
  const random = given.random ?? Math.random;
  check(typeof random === 'function', 'random must be a function');
  const handleSignals = given.handleSignals ?? false;
  check(typeof handleSignals === 'boolean', 'handleSignals must be a boolean');

  const interruptions = compileInterruptions(given.interruptions, issues);
  const checkpoints = given.checkpoints;
  check(
    checkpoints === undefined ||
      (typeof checkpoints === 'object' &&
        checkpoints !== null &&
        ['put', 'get', 'list', 'delete'].every(
          (m) => typeof (checkpoints as unknown as Record<string, unknown>)[m] === 'function',
        )),
    'checkpoints must implement the BlobStore port',
  );
  const maxCheckpointBytes = given.maxCheckpointBytes ?? 1_048_576;
  check(
    isInt(maxCheckpointBytes, 1, maxCheckpointLimit),
    `maxCheckpointBytes must be a whole number in 1..${maxCheckpointLimit}`,
  );
  if (routing) checkClaims(routing, visibilitySeconds * 1000, heartbeatIntervalMs, issues);

  if (issues.length > 0 || !routing) throw new ValidationError('invalid runner options', issues);
  return Object.freeze({
    queue,
    routing,
    concurrency,
    visibilitySeconds,
    heartbeatIntervalMs,
    heartbeatThresholdMs,
    jobTimeoutMs,
    abortGraceMs,
    maxAttempts,
    backoff: Object.freeze(backoff),
    maxBodyBytes,
    shutdownGraceMs,
    pollWaitSeconds,
    batchLingerMs,
    pollLingerMs,
    logger,
    clock,
    handleSignals,
    random,
    interruptions,
    checkpoints,
    maxCheckpointBytes,
  });
}

/** Claim TTLs default to the visibility timeout and must leave room for a renewal. */
function checkClaims(routing: JobRouting, visibilityMs: number, intervalMs: number, issues: string[]): void {
  const definitions: [string, JobDefinition][] =
    routing.kind === 'single'
      ? [['job', routing.definition]]
      : [...routing.routes].map(([t, d]) => [`jobs.${t}`, d]);
  for (const [where, definition] of definitions) {
    const claim = definition.claim;
    if (claim === undefined) continue;
    if (typeof claim !== 'object' || claim === null) {
      issues.push(`${where}.claim must be { store, key, ttlMs? }`);
      continue;
    }
    if (typeof claim.store?.claim !== 'function') issues.push(`${where}.claim.store must be a ClaimStore`);
    if (typeof claim.key !== 'function') issues.push(`${where}.claim.key must be a function`);
    const ttlMs = claim.ttlMs ?? visibilityMs;
    if (!isInt(ttlMs, 1, Number.MAX_SAFE_INTEGER) || ttlMs <= 2 * intervalMs) {
      issues.push(
        `${where}.claim.ttlMs must be a whole number above twice heartbeatIntervalMs (${2 * intervalMs})`,
      );
    }
  }
}

function compileRouting(options: RunnerOptions, issues: string[]): JobRouting | undefined {
  const { jobs, job } = options;
  if ((jobs === undefined) === (job === undefined)) {
    issues.push('give exactly one of `jobs` (routed by type) or `job` (one kind of message)');
    return undefined;
  }
  if (job !== undefined) {
    const type = job.type ?? 'default';
    if (typeof type !== 'string' || type.length === 0) issues.push('job.type must be a non-empty string');
    return isDefinition(job, 'job', issues) ? { kind: 'single', type, definition: job } : undefined;
  }
  const routes = new Map<string, JobDefinition>();
  const entries = Object.entries(jobs ?? {});
  if (entries.length === 0) issues.push('jobs must name at least one job type');
  for (const [type, definition] of entries) {
    if (isDefinition(definition, `jobs.${type}`, issues)) routes.set(type, definition);
  }
  return { kind: 'typed', routes };
}

function isDefinition(value: unknown, where: string, issues: string[]): value is JobDefinition {
  const definition = value as Partial<JobDefinition> | undefined;
  const schemaOk = typeof definition?.schema?.['~standard']?.validate === 'function';
  const handleOk = typeof definition?.handle === 'function';
  if (!schemaOk) issues.push(`${where}.schema must be a Standard Schema (e.g. a zod schema)`);
  if (!handleOk) issues.push(`${where}.handle must be a function`);
  return schemaOk && handleOk;
}

function isNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function isInt(value: unknown, min: number, max: number): value is number {
  return isNumber(value, min, max) && Number.isInteger(value);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
