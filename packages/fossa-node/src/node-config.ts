import { availableParallelism, hostname } from 'node:os';
import { ValidationError } from '@spotjobs/core';
import { z } from 'zod';
import { s3BucketNameProblem } from './datasets/dataset-uri.ts';

// The only reader of process.env for the node daemon: every setting is parsed and checked here,
// once, into a frozen object; everything else takes its settings as arguments.

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
// Checked by shape, not with a WHATWG URL parser: fauxqs hands out queue URLs whose host the
// parser refuses, and the SDK only uses the URL's path when the client has an endpoint.
const queueUrl = optionalText.pipe(
  z
    .string()
    .regex(
      /^https?:\/\/[^\s/]+\/\S+$/,
      'must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)',
    )
    .optional(),
);
const NODE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const bucketList = optionalText.transform((v, ctx) => {
  const buckets = [
    ...new Set(
      (v ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    ),
  ];
  for (const bucket of buckets) {
    const problem = s3BucketNameProblem(bucket);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }
  return buckets;
});

const envSchema = z.object({
  FOSSA_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  FOSSA_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  FOSSA_HTTP_PORT: int(2345, 0, 65_535),
  FOSSA_ADVERTISE_ADDRESS: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/, 'must be host:port')
      .optional(),
  ),
  FOSSA_NODE_ID: optionalText.pipe(
    z.string().regex(NODE_ID, 'must be 1-128 of A-Z a-z 0-9 _ . : -').optional(),
  ),
  FOSSA_CPU_TASK_RATIO: z.coerce.number().positive().max(256).default(2),
  FOSSA_ACCEPTED_MODEL_CLASSES: optionalText,
  FOSSA_DATA_DIR: optionalText,
  FOSSA_DATASET_BUCKETS: bucketList,
  FOSSA_DATASET_ROOT: optionalText,
  FOSSA_S3_FORCE_PATH_STYLE: flag(false),
  // Set by ECS in every container of a task (metadata endpoint version 4).
  ECS_CONTAINER_METADATA_URI_V4: optionalText.pipe(
    z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http URL')
      .optional(),
  ),
  FOSSA_QUEUE_URL: queueUrl,
  FOSSA_DEAD_LETTER_QUEUE_URL: queueUrl,
  FOSSA_TABLE_NAME: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name')
      .optional(),
  ),
  FOSSA_VISIBILITY_SECONDS: int(30, 2, 43_200),
  FOSSA_SUBTASK_TIMEOUT_SECONDS: int(900, 1, 43_200),
  FOSSA_PARENT_LEASE_SECONDS: int(15, 1, 3600),
  FOSSA_RESUME_INTERVAL_MS: int(1000, 50, 600_000),
  FOSSA_HEARTBEAT_INTERVAL_MS: int(2000, 100, 600_000),
  FOSSA_OUTCOME_POLL_MS: int(200, 5, 60_000),
  FOSSA_POLL_WAIT_SECONDS: int(20, 0, 20),
  FOSSA_SHUTDOWN_GRACE_SECONDS: int(25, 0, 3600),
  FOSSA_HEALTH_PORT: optionalText.pipe(
    z
      .string()
      .regex(/^\d{1,5}$/, 'must be a port number')
      .transform(Number)
      .refine((port) => port <= 65_535, 'must be at most 65535')
      .optional(),
  ),
});

/** Where the queue and the Table are: one local data directory, or SQS + DynamoDB. */
export type NodeBackendConfig =
  | { readonly kind: 'local'; readonly dataDir: string }
  | {
      readonly kind: 'aws';
      readonly queueUrl: string;
      readonly deadLetterQueueUrl: string | undefined;
      readonly tableName: string;
    };

/** The node daemon's settings (see README-node.md for the variables). */
export interface NodeConfig {
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  readonly host: string;
  readonly port: number;
  /** `host:port` in the heartbeat; default `<hostname>:<port>` (on ECS: the task's, see `ecsTaskMetadataUri`). */
  readonly advertiseAddress: string | undefined;
  /** `FOSSA_NODE_ID`, else `<hostname>-<pid>` (on ECS: the task id, see `ecsTaskMetadataUri`). */
  readonly nodeId: string;
  /**
   * ECS's task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4`), when neither
   * `FOSSA_NODE_ID` nor `FOSSA_ADVERTISE_ADDRESS` is given: the daemon then takes the node id
   * and address from the task, so the gateway matches the heartbeat with the ECS listing.
   */
  readonly ecsTaskMetadataUri: string | undefined;
  /** CPUs × ratio, rounded up (Fossa's `max_concurrent_tasks`). */
  readonly capacity: number;
  /** Class names to accept out of the built-in ones; undefined: all of them. */
  readonly acceptedModelClasses: readonly string[] | undefined;
  readonly backend: NodeBackendConfig;
  /** S3 buckets models may read and write through `s3://bucket/key`; empty: none. */
  readonly datasetBuckets: readonly string[];
  /** Local dataset paths must lie inside this directory; undefined: anywhere, relative to the working directory. */
  readonly datasetRoot: string | undefined;
  /** Path-style S3 requests (emulators); region, credentials and endpoint come from the SDK's variables. */
  readonly s3ForcePathStyle: boolean;
  readonly visibilitySeconds: number;
  readonly subtaskTimeoutMs: number;
  readonly parentLeaseMs: number;
  readonly resumeIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly outcomePollMs: number;
  readonly pollWaitSeconds: number;
  readonly shutdownGraceMs: number;
  /** The health server's port (0: a free one); undefined: no health server. */
  readonly healthPort: number | undefined;
}

/**
 * Parses the node's settings from `env`, throwing `ValidationError` listing every problem.
 * With `FOSSA_QUEUE_URL` and `FOSSA_TABLE_NAME` the node runs on SQS and DynamoDB (region,
 * credentials and endpoints from the AWS SDK's own variables); otherwise on the local backend
 * in `FOSSA_DATA_DIR` (default `./fossa-data`), which several nodes on one host may share.
 *
 * @example
 * ```ts
 * const config = loadNodeConfig({ FOSSA_HTTP_PORT: '0', FOSSA_DATA_DIR: '/var/lib/fossa' });
 * config.capacity; // CPUs × 2
 * ```
 */
export function loadNodeConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cpus: number = availableParallelism(),
): NodeConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ValidationError(
      'invalid fossa node settings',
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  let backend: NodeBackendConfig;
  if (e.FOSSA_QUEUE_URL || e.FOSSA_TABLE_NAME) {
    if (!e.FOSSA_QUEUE_URL) problems.push('FOSSA_QUEUE_URL: required with FOSSA_TABLE_NAME');
    if (!e.FOSSA_TABLE_NAME) problems.push('FOSSA_TABLE_NAME: required with FOSSA_QUEUE_URL');
    if (e.FOSSA_DATA_DIR)
      problems.push('FOSSA_DATA_DIR: give either a data directory or a queue and a table');
    backend = {
      kind: 'aws',
      queueUrl: e.FOSSA_QUEUE_URL ?? '',
      deadLetterQueueUrl: e.FOSSA_DEAD_LETTER_QUEUE_URL,
      tableName: e.FOSSA_TABLE_NAME ?? '',
    };
  } else {
    backend = { kind: 'local', dataDir: e.FOSSA_DATA_DIR ?? 'fossa-data' };
  }
  const accepted = e.FOSSA_ACCEPTED_MODEL_CLASSES?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (problems.length > 0) throw new ValidationError('invalid fossa node settings', problems);
  return Object.freeze({
    logLevel: e.FOSSA_LOG_LEVEL,
    host: e.FOSSA_HTTP_HOST,
    port: e.FOSSA_HTTP_PORT,
    advertiseAddress: e.FOSSA_ADVERTISE_ADDRESS,
    ecsTaskMetadataUri:
      e.FOSSA_NODE_ID === undefined && e.FOSSA_ADVERTISE_ADDRESS === undefined
        ? e.ECS_CONTAINER_METADATA_URI_V4
        : undefined,
    nodeId:
      e.FOSSA_NODE_ID ??
      `${hostname()
        .replace(/[^A-Za-z0-9_.:-]/g, '-')
        .slice(0, 100)}-${process.pid}`,
    capacity: Math.max(1, Math.ceil(cpus * e.FOSSA_CPU_TASK_RATIO)),
    acceptedModelClasses: accepted && Object.freeze(accepted),
    backend: Object.freeze(backend),
    datasetBuckets: Object.freeze(e.FOSSA_DATASET_BUCKETS),
    datasetRoot: e.FOSSA_DATASET_ROOT,
    s3ForcePathStyle: e.FOSSA_S3_FORCE_PATH_STYLE,
    visibilitySeconds: e.FOSSA_VISIBILITY_SECONDS,
    subtaskTimeoutMs: e.FOSSA_SUBTASK_TIMEOUT_SECONDS * 1000,
    parentLeaseMs: e.FOSSA_PARENT_LEASE_SECONDS * 1000,
    resumeIntervalMs: e.FOSSA_RESUME_INTERVAL_MS,
    heartbeatIntervalMs: e.FOSSA_HEARTBEAT_INTERVAL_MS,
    outcomePollMs: e.FOSSA_OUTCOME_POLL_MS,
    pollWaitSeconds: e.FOSSA_POLL_WAIT_SECONDS,
    shutdownGraceMs: e.FOSSA_SHUTDOWN_GRACE_SECONDS * 1000,
    healthPort: e.FOSSA_HEALTH_PORT,
  });
}

/** sysexits' EX_CONFIG: a bad setting is not retried by systemd (`RestartPreventExitStatus`). */
export const EXIT_BAD_CONFIG = 78;

/**
 * `loadNodeConfig` for an entry point: a wrong setting prints every problem to stderr and
 * exits with `EXIT_BAD_CONFIG` instead of a stack trace.
 *
 * @example
 * ```ts
 * const config = loadNodeConfigOrExit('spotjobs-fossa-node');
 * ```
 */
export function loadNodeConfigOrExit(program: string): NodeConfig {
  try {
    return loadNodeConfig();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    process.stderr.write(`${program}: invalid settings:\n${err.issues.map((i) => `  ${i}\n`).join('')}`);
    process.exit(EXIT_BAD_CONFIG);
  }
}
