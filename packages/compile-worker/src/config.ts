import { ValidationError } from '@spotjobs/core';
import { z } from 'zod';
import { type BuildPolicy, defaultBuildPolicy } from './build/build-policy.ts';
import { type BuilderProfile, builderProfileSchema, UNPINNED_IMAGE } from './build/builder-profile.ts';

// The only reader of process.env in this package: every setting is parsed and checked here,
// once, into a frozen object; everything else takes its settings as arguments.

const seconds = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

// Checked by shape, not with a WHATWG URL parser: fauxqs hands out queue URLs whose host
// (`sqs.us-east-1.127.0.0.1`) the parser refuses, and the SDK only uses the URL's path anyway
// when the client has an endpoint.
const queueUrl = z
  .string()
  .regex(
    /^https?:\/\/[^\s/]+\/\S+$/,
    'must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)',
  )
  .optional();

const envSchema = z
  .object({
    SPOTJOBS_COMPILE_BACKEND: z.enum(['local', 'aws']).default('local'),
    SPOTJOBS_COMPILE_LOG_LEVEL: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .default('info'),
    SPOTJOBS_COMPILE_HOST: z.string().min(1).default('127.0.0.1'),
    SPOTJOBS_COMPILE_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    SPOTJOBS_COMPILE_PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
    SPOTJOBS_COMPILE_API_KEYS: optionalText,
    SPOTJOBS_COMPILE_OPEN_READS: flag(true),
    SPOTJOBS_COMPILE_STAGE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('LATEST'),
    SPOTJOBS_COMPILE_PRESIGN_SECONDS: seconds(900, 1).pipe(z.number().max(604_800)),
    SPOTJOBS_COMPILE_IMAGE_DIGEST: z.string().default(UNPINNED_IMAGE),
    SPOTJOBS_COMPILE_ARCH: z.string().default('amd64'),
    SPOTJOBS_COMPILE_MAKECONF_PROFILE: z.string().default('pacloud-2018'),
    SPOTJOBS_COMPILE_FAILED_RETRY_AFTER_SECONDS: seconds(defaultBuildPolicy.failedRetryAfterMs / 1000),
    SPOTJOBS_COMPILE_ENQUEUE_GRACE_SECONDS: seconds(defaultBuildPolicy.enqueueGraceMs / 1000, 1),
    SPOTJOBS_COMPILE_REDISPATCH_AFTER_SECONDS: seconds(defaultBuildPolicy.redispatchAfterMs / 1000, 60),
    SPOTJOBS_COMPILE_STUCK_AFTER_SECONDS: seconds(defaultBuildPolicy.stuckAfterMs / 1000, 1),
    SPOTJOBS_COMPILE_MAX_ATTEMPTS: seconds(defaultBuildPolicy.maxAttempts, 1),
    SPOTJOBS_COMPILE_MAX_DISPATCHES: seconds(defaultBuildPolicy.maxDispatches, 1),
    SPOTJOBS_COMPILE_DATA_DIR: z.string().min(1).default('/var/lib/spotjobs-compile'),
    SPOTJOBS_COMPILE_QUEUE: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,80}$/)
      .default('compile'),
    SPOTJOBS_COMPILE_TABLE: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/)
      .default('spotjobs-compile'),
    SPOTJOBS_COMPILE_QUEUE_URL: optionalText.pipe(queueUrl),
    SPOTJOBS_COMPILE_DLQ_URL: optionalText.pipe(queueUrl),
    SPOTJOBS_COMPILE_BUCKET: optionalText,
    SPOTJOBS_COMPILE_BUCKET_PREFIX: optionalText,
    SPOTJOBS_COMPILE_S3_FORCE_PATH_STYLE: flag(false),
  })
  .superRefine((env, ctx) => {
    const need = (name: keyof typeof env, why: string) => {
      if (env[name] === undefined)
        ctx.addIssue({ code: 'custom', path: [name], message: `is required ${why}` });
    };
    if (env.SPOTJOBS_COMPILE_BACKEND === 'aws') {
      need('SPOTJOBS_COMPILE_QUEUE_URL', 'with the aws backend');
      need('SPOTJOBS_COMPILE_BUCKET', 'with the aws backend');
      if (env.SPOTJOBS_COMPILE_IMAGE_DIGEST === UNPINNED_IMAGE)
        ctx.addIssue({
          code: 'custom',
          path: ['SPOTJOBS_COMPILE_IMAGE_DIGEST'],
          message: 'must pin the builder image (sha256:...) with the aws backend',
        });
    }
  });

/** Every setting of the compile farm's request path, parsed from the environment and frozen. */
export interface CompileConfig {
  readonly backend: 'local' | 'aws';
  readonly logLevel: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Base URL clients reach this server at (presigned local links); default `http://<host>:<port>`. */
    readonly publicUrl: string | undefined;
  };
  readonly api: {
    readonly apiKeys: readonly string[];
    /** Whether status, artifact and log reads of an existing build need no credentials. */
    readonly openReads: boolean;
    /** The API Gateway stage the compat path starts with (`/LATEST/package`). */
    readonly stage: string;
    readonly presignSeconds: number;
  };
  readonly profile: BuilderProfile;
  readonly policy: BuildPolicy;
  readonly local: {
    readonly dataDir: string;
    readonly queueName: string;
    readonly tableName: string;
  };
  readonly aws:
    | {
        readonly queueUrl: string;
        readonly deadLetterQueueUrl: string | undefined;
        readonly tableName: string;
        readonly bucket: string;
        readonly bucketPrefix: string | undefined;
        readonly forcePathStyle: boolean;
      }
    | undefined;
}

const API_KEY = /^[A-Za-z0-9._~+/=-]{16,256}$/;

/**
 * Reads the configuration from `env` (default `process.env`). Throws `ValidationError` naming
 * every variable that is wrong, so a misconfigured service fails at start, not on a request.
 *
 * @example
 * ```ts
 * const config = loadConfig(); // or loadConfig({ SPOTJOBS_COMPILE_API_KEYS: 'k1-0123456789abcdef' })
 * ```
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): CompileConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ValidationError(
      'invalid compile-worker configuration',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const apiKeys = (e.SPOTJOBS_COMPILE_API_KEYS ?? '').split(/[\s,]+/).filter((k) => k !== '');
  // Keys are secrets: a problem names the key's position, never its text.
  const issues = apiKeys.flatMap((k, i) =>
    API_KEY.test(k)
      ? []
      : [`SPOTJOBS_COMPILE_API_KEYS: key ${i + 1} must be 16-256 characters of A-Z a-z 0-9 . _ ~ + / = -`],
  );
  const profile = builderProfileSchema.safeParse({
    imageDigest: e.SPOTJOBS_COMPILE_IMAGE_DIGEST,
    arch: e.SPOTJOBS_COMPILE_ARCH,
    makeConfProfile: e.SPOTJOBS_COMPILE_MAKECONF_PROFILE,
  });
  if (!profile.success) {
    const names = { imageDigest: 'IMAGE_DIGEST', arch: 'ARCH', makeConfProfile: 'MAKECONF_PROFILE' } as const;
    for (const i of profile.error.issues)
      issues.push(`SPOTJOBS_COMPILE_${names[i.path[0] as keyof typeof names] ?? 'PROFILE'}: ${i.message}`);
  }
  if (issues.length > 0 || !profile.success)
    throw new ValidationError('invalid compile-worker configuration', issues);

  return deepFreeze({
    backend: e.SPOTJOBS_COMPILE_BACKEND,
    logLevel: e.SPOTJOBS_COMPILE_LOG_LEVEL,
    http: {
      host: e.SPOTJOBS_COMPILE_HOST,
      port: e.SPOTJOBS_COMPILE_PORT,
      publicUrl: e.SPOTJOBS_COMPILE_PUBLIC_URL,
    },
    api: {
      apiKeys,
      openReads: e.SPOTJOBS_COMPILE_OPEN_READS,
      stage: e.SPOTJOBS_COMPILE_STAGE,
      presignSeconds: e.SPOTJOBS_COMPILE_PRESIGN_SECONDS,
    },
    profile: profile.data,
    policy: {
      failedRetryAfterMs: e.SPOTJOBS_COMPILE_FAILED_RETRY_AFTER_SECONDS * 1000,
      enqueueGraceMs: e.SPOTJOBS_COMPILE_ENQUEUE_GRACE_SECONDS * 1000,
      redispatchAfterMs: e.SPOTJOBS_COMPILE_REDISPATCH_AFTER_SECONDS * 1000,
      stuckAfterMs: e.SPOTJOBS_COMPILE_STUCK_AFTER_SECONDS * 1000,
      maxAttempts: e.SPOTJOBS_COMPILE_MAX_ATTEMPTS,
      maxDispatches: e.SPOTJOBS_COMPILE_MAX_DISPATCHES,
    },
    local: {
      dataDir: e.SPOTJOBS_COMPILE_DATA_DIR,
      queueName: e.SPOTJOBS_COMPILE_QUEUE,
      tableName: e.SPOTJOBS_COMPILE_TABLE,
    },
    aws:
      e.SPOTJOBS_COMPILE_BACKEND === 'aws'
        ? {
            queueUrl: e.SPOTJOBS_COMPILE_QUEUE_URL ?? '',
            deadLetterQueueUrl: e.SPOTJOBS_COMPILE_DLQ_URL,
            tableName: e.SPOTJOBS_COMPILE_TABLE,
            bucket: e.SPOTJOBS_COMPILE_BUCKET ?? '',
            bucketPrefix: e.SPOTJOBS_COMPILE_BUCKET_PREFIX,
            forcePathStyle: e.SPOTJOBS_COMPILE_S3_FORCE_PATH_STYLE,
          }
        : undefined,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
