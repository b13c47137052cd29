import { hostname } from 'node:os';
import { type HibernatePolicy, ValidationError } from '@spotjobs/core';
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

const WORKER_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
// name[:tag][@sha256:digest], with an optional registry host[:port]/ prefix and path segments.
const IMAGE_REF =
  /^(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
/** The builder image when none is configured: Gentoo's stage3 (Portage included). */
const DEFAULT_IMAGE = 'docker.io/gentoo/stage3:latest';
const optionalNumber = optionalText.transform((v) => (v === undefined ? undefined : Number(v)));
const absolutePath = z.string().regex(/^\/[^\0]*$/, 'must be an absolute path');
// Checked for shape here (5 or 6 fields, or @-aliases are not accepted); node-cron validates fully when scheduled.
const cron = (fallback: string) =>
  z
    .string()
    .trim()
    .regex(/^(\S+\s+){4,5}\S+$/, 'must be a cron expression of 5 or 6 fields')
    .default(fallback);

const envSchema = z.object({
  SPOTJOBS_COMPILE_BACKEND: z.enum(['local', 'aws']).default('local'),
  SPOTJOBS_COMPILE_LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .default('info'),
  SPOTJOBS_COMPILE_HOST: z.string().min(1).default('127.0.0.1'),
  SPOTJOBS_COMPILE_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  SPOTJOBS_COMPILE_PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  SPOTJOBS_COMPILE_API_KEYS: optionalText,
  SPOTJOBS_COMPILE_API_KEY_SHA256: optionalText,
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
  // The build daemon
  SPOTJOBS_COMPILE_WORKER_ID: optionalText.pipe(z.string().regex(WORKER_ID).optional()),
  SPOTJOBS_COMPILE_CONCURRENCY: seconds(1, 1).pipe(z.number().max(64)),
  SPOTJOBS_COMPILE_EXECUTOR: z.enum(['auto', 'container', 'process']).default('auto'),
  SPOTJOBS_COMPILE_BUILDER_IMAGE: z
    .string()
    .regex(IMAGE_REF, 'must be an image reference')
    .default(DEFAULT_IMAGE),
  SPOTJOBS_COMPILE_EMERGE: z.string().min(1).default('emerge'),
  SPOTJOBS_COMPILE_WORK_DIR: optionalText.pipe(absolutePath.optional()),
  SPOTJOBS_COMPILE_CACHE_DIR: absolutePath.default('/var/cache/spotjobs-compile/binpkgs'),
  SPOTJOBS_COMPILE_CACHE_MAX_GIB: z.coerce.number().positive().max(1_000_000).default(20),
  SPOTJOBS_COMPILE_TREE_DIR: optionalText.pipe(absolutePath.optional()),
  SPOTJOBS_COMPILE_BUILD_MEMORY_MIB: optionalNumber.pipe(z.number().int().min(64).optional()),
  SPOTJOBS_COMPILE_BUILD_CPUS: optionalNumber.pipe(z.number().positive().max(1024).optional()),
  SPOTJOBS_COMPILE_BUILD_PIDS: seconds(4096, 16),
  SPOTJOBS_COMPILE_BUILD_TIMEOUT_SECONDS: seconds(7200, 1).pipe(z.number().max(36_000)),
  SPOTJOBS_COMPILE_BUILD_NETWORK: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
      .optional(),
  ),
  SPOTJOBS_COMPILE_VISIBILITY_SECONDS: seconds(120, 10).pipe(z.number().max(43_200)),
  SPOTJOBS_COMPILE_SHUTDOWN_GRACE_SECONDS: seconds(30, 0).pipe(z.number().max(3600)),
  SPOTJOBS_COMPILE_IMDS: optionalText.pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional()),
  SPOTJOBS_COMPILE_HIBERNATE: z.enum(['release', 'hold']).default('release'),
  SPOTJOBS_COMPILE_HIBERNATE_HOLD_SECONDS: seconds(900, 1).pipe(z.number().max(43_200)),
  SPOTJOBS_SLEEP_SOCKET: absolutePath.default('/run/spotjobs/sleep-hook.sock'),
  SPOTJOBS_COMPILE_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  SPOTJOBS_COMPILE_CRON_TREE_REFRESH: cron('30 3 * * *'),
  SPOTJOBS_COMPILE_CRON_PRUNE: cron('17 * * * *'),
  SPOTJOBS_COMPILE_CRON_RECLAIM: cron('*/5 * * * *'),
});

/** What the aws backend cannot do without; checked on the raw environment, beside the schema. */
function awsRequirements(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env.SPOTJOBS_COMPILE_BACKEND !== 'aws') return [];
  const blank = (name: string) => (env[name] ?? '').trim() === '';
  return [
    ...['SPOTJOBS_COMPILE_QUEUE_URL', 'SPOTJOBS_COMPILE_BUCKET']
      .filter(blank)
      .map((name) => `${name}: is required with the aws backend`),
    ...(blank('SPOTJOBS_COMPILE_IMAGE_DIGEST') || env.SPOTJOBS_COMPILE_IMAGE_DIGEST?.trim() === UNPINNED_IMAGE
      ? ['SPOTJOBS_COMPILE_IMAGE_DIGEST: must pin the builder image (sha256:...) with the aws backend']
      : []),
  ];
}

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
    /** SHA-256 digests (hex) of further keys, for deployments that must not hold the keys themselves. */
    readonly apiKeySha256: readonly string[];
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
  /** The build daemon's settings (`spotjobs-compile-worker`). */
  readonly worker: WorkerConfig;
}

/** Settings of the build daemon; times in ms, sizes in bytes. */
export interface WorkerConfig {
  readonly workerId: string;
  /** Builds at once on this host. Default 1, as Pacloud ran. */
  readonly concurrency: number;
  /** `auto`: Docker when an engine answers, else host processes (logged loudly). */
  readonly executor: 'auto' | 'container' | 'process';
  readonly builderImage: string;
  /** The process executor's emerge (a path or a name on PATH). */
  readonly emerge: string;
  readonly workDir: string;
  /** The binpkg cache on this host, mounted at Portage's PKGDIR in every build. */
  readonly cacheDir: string;
  readonly cacheMaxBytes: number;
  /** A Portage tree mounted read-only into builds and refreshed by cron; unset: the image's own. */
  readonly treeDir: string | undefined;
  readonly build: {
    readonly memoryBytes: number | undefined;
    readonly cpus: number | undefined;
    readonly pidsLimit: number;
    readonly timeoutMs: number;
    readonly network: string | undefined;
  };
  readonly visibilitySeconds: number;
  readonly shutdownGraceMs: number;
  readonly imds: boolean;
  readonly hibernate: HibernatePolicy;
  readonly sleepSocket: string;
  /** 0 disables the health and metrics server. */
  readonly healthPort: number;
  readonly cron: { readonly treeRefresh: string; readonly prune: string; readonly reclaim: string };
}

const INVALID_CONFIG = 'invalid compile-worker configuration';
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
    throw new ValidationError(INVALID_CONFIG, [
      ...parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
      ...awsRequirements(env),
    ]);
  }
  const e = parsed.data;
  const apiKeys = (e.SPOTJOBS_COMPILE_API_KEYS ?? '').split(/[\s,]+/).filter((k) => k !== '');
  const apiKeySha256 = (e.SPOTJOBS_COMPILE_API_KEY_SHA256 ?? '')
    .split(/[\s,]+/)
    .filter((d) => d !== '')
    .map((d) => d.toLowerCase());
  // Keys are secrets: a problem names the key's position, never its text.
  const issues = awsRequirements(env);
  issues.push(
    ...apiKeys.flatMap((k, i) =>
      API_KEY.test(k)
        ? []
        : [`SPOTJOBS_COMPILE_API_KEYS: key ${i + 1} must be 16-256 characters of A-Z a-z 0-9 . _ ~ + / = -`],
    ),
    ...apiKeySha256.flatMap((d, i) =>
      /^[0-9a-f]{64}$/.test(d)
        ? []
        : [`SPOTJOBS_COMPILE_API_KEY_SHA256: digest ${i + 1} must be 64 hex digits (sha256sum of the key)`],
    ),
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
  if (issues.length > 0 || !profile.success) throw new ValidationError(INVALID_CONFIG, issues);

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
      apiKeySha256,
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
    worker: {
      workerId: e.SPOTJOBS_COMPILE_WORKER_ID ?? hostname(),
      concurrency: e.SPOTJOBS_COMPILE_CONCURRENCY,
      executor: e.SPOTJOBS_COMPILE_EXECUTOR,
      builderImage: e.SPOTJOBS_COMPILE_BUILDER_IMAGE,
      emerge: e.SPOTJOBS_COMPILE_EMERGE,
      workDir: e.SPOTJOBS_COMPILE_WORK_DIR ?? `${e.SPOTJOBS_COMPILE_DATA_DIR.replace(/\/+$/, '')}/builds`,
      cacheDir: e.SPOTJOBS_COMPILE_CACHE_DIR,
      cacheMaxBytes: Math.floor(e.SPOTJOBS_COMPILE_CACHE_MAX_GIB * 2 ** 30),
      treeDir: e.SPOTJOBS_COMPILE_TREE_DIR,
      build: {
        memoryBytes:
          e.SPOTJOBS_COMPILE_BUILD_MEMORY_MIB === undefined
            ? undefined
            : e.SPOTJOBS_COMPILE_BUILD_MEMORY_MIB * 2 ** 20,
        cpus: e.SPOTJOBS_COMPILE_BUILD_CPUS,
        pidsLimit: e.SPOTJOBS_COMPILE_BUILD_PIDS,
        timeoutMs: e.SPOTJOBS_COMPILE_BUILD_TIMEOUT_SECONDS * 1000,
        network: e.SPOTJOBS_COMPILE_BUILD_NETWORK,
      },
      visibilitySeconds: e.SPOTJOBS_COMPILE_VISIBILITY_SECONDS,
      shutdownGraceMs: e.SPOTJOBS_COMPILE_SHUTDOWN_GRACE_SECONDS * 1000,
      // Spot notices only exist on EC2: watched by default with the aws backend.
      imds:
        e.SPOTJOBS_COMPILE_IMDS === undefined
          ? e.SPOTJOBS_COMPILE_BACKEND === 'aws'
          : ['true', '1', 'yes'].includes(e.SPOTJOBS_COMPILE_IMDS),
      hibernate:
        e.SPOTJOBS_COMPILE_HIBERNATE === 'hold'
          ? { policy: 'hold', holdSeconds: e.SPOTJOBS_COMPILE_HIBERNATE_HOLD_SECONDS }
          : { policy: 'release' },
      sleepSocket: e.SPOTJOBS_SLEEP_SOCKET,
      healthPort: e.SPOTJOBS_COMPILE_HEALTH_PORT,
      cron: {
        treeRefresh: e.SPOTJOBS_COMPILE_CRON_TREE_REFRESH,
        prune: e.SPOTJOBS_COMPILE_CRON_PRUNE,
        reclaim: e.SPOTJOBS_COMPILE_CRON_RECLAIM,
      },
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** sysexits' EX_CONFIG: systemd units list it in `RestartPreventExitStatus`, so a bad setting is not retried. */
export const EXIT_BAD_CONFIG = 78;

/**
 * `loadConfig` for an entry point: a wrong setting prints every problem to stderr and exits
 * with `EXIT_BAD_CONFIG` instead of a stack trace.
 *
 * @example
 * ```ts
 * const config = loadConfigOrExit('spotjobs-compile-worker');
 * ```
 */
export function loadConfigOrExit(program: string): CompileConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    process.stderr.write(`${program}: ${INVALID_CONFIG}:\n${err.issues.map((i) => `  ${i}\n`).join('')}`);
    process.exit(EXIT_BAD_CONFIG);
  }
}
