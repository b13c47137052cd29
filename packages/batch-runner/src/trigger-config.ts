import { ValidationError } from '@spotjobs/core';
import { z } from 'zod';
import { stackPrefixProblem } from './clusters/cluster-key.ts';
import {
  afUserParameterPolicy,
  type ParameterPolicy,
  parameterPolicyProblems,
  parameterPolicySchema,
} from './clusters/cluster-parameters.ts';
import type { ClusterSettings } from './clusters/cluster-settings.ts';
import type { JobRoute, JobTriggerSettings } from './triggers/job-routes.ts';

// The only reader of the environment for the Lambda triggers: every setting is parsed and
// checked here, once, into a frozen object; handlers take their settings as arguments.

const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const flag = (fallback: boolean) =>
  text.pipe(
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .optional()
      .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes')),
  );
const int = (fallback: number, min: number, max: number) =>
  text.transform((v) => (v === undefined ? fallback : Number(v))).pipe(z.number().int().min(min).max(max));
// S3's naming rules for general purpose buckets.
const bucket = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
  .refine((b) => !b.includes('..'), 'must be an S3 bucket name');
const folderPrefix = (fallback: string) =>
  text.pipe(
    z
      .string()
      .regex(/^([A-Za-z0-9!_.*'()-]+\/)+$/, "must be folders ending in / (letters, digits, !_.*'()-)")
      .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. folders')
      .optional()
      .transform((v) => v ?? fallback),
  );
// Job queue and definition: a name (with :revision for definitions) or an ARN.
const batchName = z
  .string()
  .regex(/^(arn:aws[a-z-]*:batch:[^\s]+|[A-Za-z0-9][A-Za-z0-9_-]{0,127}(:[0-9]+)?)$/, {
    message: 'must be a Batch name (or name:revision) or ARN',
  });
const email = z.string().regex(/^[^\s@,]+@[^\s@,]+$/, 'must be an e-mail address');
const list = (item: z.ZodType<string, string>) =>
  text.pipe(
    z
      .string()
      .optional()
      .transform((v) =>
        (v ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      )
      .pipe(z.array(item)),
  );

const commonSchema = z.object({
  SPOTJOBS_TRIGGER_LOG_LEVEL: text.pipe(
    z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
      .optional()
      .transform((v) => v ?? 'info'),
  ),
  SPOTJOBS_TRIGGER_TABLE: text.pipe(
    z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
  ),
  SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS: int(60, 10, 900),
  SPOTJOBS_TRIGGER_S3_FORCE_PATH_STYLE: flag(false),
});

const jobsSchema = z.object({
  SPOTJOBS_TRIGGER_BUCKETS: list(bucket).pipe(z.array(bucket).min(1, 'must name at least one bucket')),
  SPOTJOBS_TRIGGER_INPUT_PREFIX: folderPrefix('input/'),
  SPOTJOBS_TRIGGER_JOB_QUEUE: text.pipe(batchName),
  SPOTJOBS_TRIGGER_JOB_DEFINITION: text.pipe(batchName),
  SPOTJOBS_TRIGGER_MULTINODE_PREFIX: text.pipe(
    z
      .string()
      .regex(/^([A-Za-z0-9!_.*'()-]+\/)+$/, 'must be folders ending in /')
      .optional(),
  ),
  SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION: text.pipe(batchName.optional()),
  SPOTJOBS_TRIGGER_MULTINODE_JOB_QUEUE: text.pipe(batchName.optional()),
  SPOTJOBS_TRIGGER_OUTPUT_BUCKET: text.pipe(bucket.optional()),
  SPOTJOBS_TRIGGER_OUTPUT_PREFIX: folderPrefix('output/'),
});

const capability = z.enum(['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']);

const clustersSchema = z.object({
  SPOTJOBS_CLUSTERS_BUCKET: text.pipe(bucket),
  SPOTJOBS_CLUSTERS_HOME_PREFIX: folderPrefix('home/'),
  SPOTJOBS_CLUSTERS_CUSTOMIZER_BUCKET: text.pipe(bucket),
  SPOTJOBS_CLUSTERS_CUSTOMIZER_PREFIX: folderPrefix('customizer/'),
  SPOTJOBS_CLUSTERS_TEMPLATE_URL: text.pipe(z.url({ protocol: /^https$/ })),
  SPOTJOBS_CLUSTERS_STACK_PREFIX: text.transform((v) => v ?? 'af'),
  SPOTJOBS_CLUSTERS_CAPABILITIES: text
    .transform((v) => v ?? 'CAPABILITY_IAM')
    .pipe(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        )
        .pipe(z.array(capability)),
    ),
  SPOTJOBS_CLUSTERS_PARAMETER_POLICY: text,
  SPOTJOBS_CLUSTERS_LOGIN_OUTPUT: text.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9]{1,255}$/, 'must be a stack output name')
      .optional()
      .transform((v) => v ?? 'LoginAddress'),
  ),
  SPOTJOBS_CLUSTERS_CREATE_TIMEOUT_MINUTES: int(45, 1, 600),
  SPOTJOBS_CLUSTERS_DELETE_TIMEOUT_MINUTES: int(30, 1, 600),
  SPOTJOBS_CLUSTERS_ON_FAILURE: text.pipe(
    z
      .enum(['DELETE', 'ROLLBACK', 'DO_NOTHING'])
      .optional()
      .transform((v) => v ?? 'DELETE'),
  ),
  SPOTJOBS_CLUSTERS_ROLE_ARN: text.pipe(
    z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN')
      .optional(),
  ),
  SPOTJOBS_CLUSTERS_POLL_SECONDS: int(10, 1, 60),
  SPOTJOBS_CLUSTERS_MAX_REQUEST_BYTES: int(16_384, 2, 1_048_576),
  SPOTJOBS_CLUSTERS_LEGACY_STACK_NAMES: flag(false),
  SPOTJOBS_CLUSTERS_NOTIFY_FROM: text.pipe(email.optional()),
  SPOTJOBS_CLUSTERS_NOTIFY_TO: list(email),
  SPOTJOBS_CLUSTERS_NOTIFY_REPLY_TO: list(email),
  SPOTJOBS_CLUSTERS_SES_REGION: text.pipe(
    z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, 'must be an AWS region')
      .optional(),
  ),
});

/** Settings every trigger Lambda shares. */
export interface TriggerCommonConfig {
  readonly logLevel: string;
  /** The DynamoDB table of idempotency claims (pk/sk, as `ensureDynamoTable` makes it). */
  readonly tableName: string;
  readonly claimTtlMs: number;
  /** Path-style S3 addressing (emulators). */
  readonly forcePathStyle: boolean;
}

/** The job trigger Lambda's configuration. */
export interface JobTriggerConfig extends TriggerCommonConfig {
  readonly jobs: JobTriggerSettings;
}

/** The cluster request Lambdas' configuration. */
export interface ClusterTriggerConfig extends TriggerCommonConfig {
  readonly clusters: ClusterSettings;
  readonly customizerBucket: string;
  /** E-mail through SES; undefined: notices go to the log only. */
  readonly notify:
    | {
        readonly from: string;
        readonly to: readonly string[];
        readonly replyTo: readonly string[];
        readonly region: string | undefined;
      }
    | undefined;
}

const INVALID_CONFIG = 'invalid trigger configuration';
type Env = Readonly<Record<string, string | undefined>>;

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
}

function parseCommon(env: Env, issues: string[]): TriggerCommonConfig | undefined {
  const parsed = commonSchema.safeParse(env);
  if (!parsed.success) {
    issues.push(...issuesOf(parsed.error));
    return undefined;
  }
  const e = parsed.data;
  return {
    logLevel: e.SPOTJOBS_TRIGGER_LOG_LEVEL,
    tableName: e.SPOTJOBS_TRIGGER_TABLE,
    claimTtlMs: e.SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS * 1000,
    forcePathStyle: e.SPOTJOBS_TRIGGER_S3_FORCE_PATH_STYLE,
  };
}

/**
 * The common variables and the trigger's own (`schema`), both checked before either fails, so
 * one error names every wrong variable. Later checks add to `issues`.
 */
function parseEnvironment<T>(
  schema: z.ZodType<T>,
  env: Env,
  issues: string[],
): { common: TriggerCommonConfig; e: T } {
  const common = parseCommon(env, issues);
  const parsed = schema.safeParse(env);
  if (!parsed.success) issues.push(...issuesOf(parsed.error));
  if (!common || !parsed.success) throw new ValidationError(INVALID_CONFIG, issues);
  return { common, e: parsed.data };
}

/** Whether two key prefixes overlap (one starts with the other). */
function overlaps(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * The job trigger's configuration from `env` (default `process.env`). Throws
 * `ValidationError` naming every wrong variable, so a misconfigured function fails on its
 * first invocation with a clear message, not on some later event.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `SPOTJOBS_TRIGGER_TABLE` | required | DynamoDB table of idempotency claims |
 * | `SPOTJOBS_TRIGGER_BUCKETS` | required | input buckets, comma-separated |
 * | `SPOTJOBS_TRIGGER_INPUT_PREFIX` | `input/` | objects under it start single-node jobs |
 * | `SPOTJOBS_TRIGGER_JOB_QUEUE`, `SPOTJOBS_TRIGGER_JOB_DEFINITION` | required | where they go |
 * | `SPOTJOBS_TRIGGER_MULTINODE_PREFIX` | unset | objects under it start multi-node parallel jobs |
 * | `SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION` | required with the prefix | |
 * | `SPOTJOBS_TRIGGER_MULTINODE_JOB_QUEUE` | the job queue | an on-demand queue (MNP does not run on Spot) |
 * | `SPOTJOBS_TRIGGER_OUTPUT_BUCKET` | the input's bucket | |
 * | `SPOTJOBS_TRIGGER_OUTPUT_PREFIX` | `output/` | per-job prefixes go under it; must not overlap an input prefix |
 *
 * @example
 * ```ts
 * const config = loadJobTriggerConfig({ SPOTJOBS_TRIGGER_TABLE: 'triggers', SPOTJOBS_TRIGGER_BUCKETS: 'jobs', SPOTJOBS_TRIGGER_JOB_QUEUE: 'q', SPOTJOBS_TRIGGER_JOB_DEFINITION: 'runner' });
 * ```
 */
export function loadJobTriggerConfig(env: Env = process.env): JobTriggerConfig {
  const issues: string[] = [];
  const { common, e } = parseEnvironment(jobsSchema, env, issues);
  const routes: JobRoute[] = [
    {
      prefix: e.SPOTJOBS_TRIGGER_INPUT_PREFIX,
      jobQueue: e.SPOTJOBS_TRIGGER_JOB_QUEUE,
      jobDefinition: e.SPOTJOBS_TRIGGER_JOB_DEFINITION,
      multiNode: false,
    },
  ];
  if (e.SPOTJOBS_TRIGGER_MULTINODE_PREFIX !== undefined) {
    if (!e.SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION)
      issues.push(
        'SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION: is required with SPOTJOBS_TRIGGER_MULTINODE_PREFIX',
      );
    if (e.SPOTJOBS_TRIGGER_MULTINODE_PREFIX === e.SPOTJOBS_TRIGGER_INPUT_PREFIX)
      issues.push('SPOTJOBS_TRIGGER_MULTINODE_PREFIX: must differ from SPOTJOBS_TRIGGER_INPUT_PREFIX');
    routes.push({
      prefix: e.SPOTJOBS_TRIGGER_MULTINODE_PREFIX,
      jobQueue: e.SPOTJOBS_TRIGGER_MULTINODE_JOB_QUEUE ?? e.SPOTJOBS_TRIGGER_JOB_QUEUE,
      jobDefinition: e.SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION ?? '',
      multiNode: true,
    });
  } else if (e.SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION) {
    issues.push(
      'SPOTJOBS_TRIGGER_MULTINODE_PREFIX: is required with SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION',
    );
  }
  // Outputs written where inputs are watched would start jobs of their own, forever.
  const outputsShareBucket =
    e.SPOTJOBS_TRIGGER_OUTPUT_BUCKET === undefined ||
    e.SPOTJOBS_TRIGGER_BUCKETS.includes(e.SPOTJOBS_TRIGGER_OUTPUT_BUCKET);
  for (const route of routes) {
    if (outputsShareBucket && overlaps(route.prefix, e.SPOTJOBS_TRIGGER_OUTPUT_PREFIX))
      issues.push(
        `SPOTJOBS_TRIGGER_OUTPUT_PREFIX: ${e.SPOTJOBS_TRIGGER_OUTPUT_PREFIX} overlaps the input prefix ${route.prefix}, so outputs would trigger jobs`,
      );
  }
  if (issues.length > 0) throw new ValidationError(INVALID_CONFIG, issues);
  return deepFreeze({
    ...common,
    jobs: {
      buckets: e.SPOTJOBS_TRIGGER_BUCKETS,
      routes,
      outputBucket: e.SPOTJOBS_TRIGGER_OUTPUT_BUCKET,
      outputPrefix: e.SPOTJOBS_TRIGGER_OUTPUT_PREFIX,
    },
  });
}

function parsePolicy(json: string | undefined, issues: string[]): ParameterPolicy {
  if (json === undefined) return afUserParameterPolicy;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    issues.push(`SPOTJOBS_CLUSTERS_PARAMETER_POLICY: not JSON (${(err as Error).message})`);
    return afUserParameterPolicy;
  }
  const parsed = parameterPolicySchema.safeParse(raw);
  if (!parsed.success) {
    issues.push(...issuesOf(parsed.error).map((i) => `SPOTJOBS_CLUSTERS_PARAMETER_POLICY.${i}`));
    return afUserParameterPolicy;
  }
  issues.push(...parameterPolicyProblems(parsed.data).map((p) => `SPOTJOBS_CLUSTERS_PARAMETER_POLICY: ${p}`));
  return parsed.data;
}

/**
 * The cluster request Lambdas' configuration from `env` (default `process.env`); throws
 * `ValidationError` naming every wrong variable.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `SPOTJOBS_TRIGGER_TABLE` | required | DynamoDB table of idempotency claims |
 * | `SPOTJOBS_CLUSTERS_BUCKET` | required | the user bucket (`home/<uid>/...`) |
 * | `SPOTJOBS_CLUSTERS_HOME_PREFIX` | `home/` | |
 * | `SPOTJOBS_CLUSTERS_CUSTOMIZER_BUCKET` | required | holds `customizer/<uid>/configure.d/user.sh`, the gate |
 * | `SPOTJOBS_CLUSTERS_CUSTOMIZER_PREFIX` | `customizer/` | |
 * | `SPOTJOBS_CLUSTERS_TEMPLATE_URL` | required | https URL of the cluster template |
 * | `SPOTJOBS_CLUSTERS_STACK_PREFIX` | `af` | stacks are `<prefix>--<uid>--<NAME>` |
 * | `SPOTJOBS_CLUSTERS_CAPABILITIES` | `CAPABILITY_IAM` | comma-separated |
 * | `SPOTJOBS_CLUSTERS_PARAMETER_POLICY` | af-user's, bounded | JSON `{overridable, fixed}` |
 * | `SPOTJOBS_CLUSTERS_LOGIN_OUTPUT` | `LoginAddress` | stack output written to `.cf-created` |
 * | `SPOTJOBS_CLUSTERS_CREATE_TIMEOUT_MINUTES` | 45 | CloudFormation's `TimeoutInMinutes` |
 * | `SPOTJOBS_CLUSTERS_DELETE_TIMEOUT_MINUTES` | 30 | a deletion running longer is reported failed |
 * | `SPOTJOBS_CLUSTERS_ON_FAILURE` | `DELETE` | `DELETE`, `ROLLBACK` or `DO_NOTHING` |
 * | `SPOTJOBS_CLUSTERS_ROLE_ARN` | unset | CloudFormation service role for the stacks |
 * | `SPOTJOBS_CLUSTERS_POLL_SECONDS` | 10 | DescribeStacks interval while waiting |
 * | `SPOTJOBS_CLUSTERS_MAX_REQUEST_BYTES` | 16384 | larger requests are refused unread |
 * | `SPOTJOBS_CLUSTERS_LEGACY_STACK_NAMES` | false | `.cf-delete` also finds af-user's un-namespaced stacks (tag-checked) |
 * | `SPOTJOBS_CLUSTERS_NOTIFY_FROM`, `_TO`, `_REPLY_TO` | unset | SES e-mail; `{uid}` in an address is the user id |
 * | `SPOTJOBS_CLUSTERS_SES_REGION` | the function's | |
 *
 * @example
 * ```ts
 * const config = loadClusterTriggerConfig(); // in the Lambda
 * ```
 */
export function loadClusterTriggerConfig(env: Env = process.env): ClusterTriggerConfig {
  const issues: string[] = [];
  const { common, e } = parseEnvironment(clustersSchema, env, issues);
  const prefixProblem = stackPrefixProblem(e.SPOTJOBS_CLUSTERS_STACK_PREFIX);
  if (prefixProblem) issues.push(`SPOTJOBS_CLUSTERS_STACK_PREFIX: ${prefixProblem}`);
  const policy = parsePolicy(e.SPOTJOBS_CLUSTERS_PARAMETER_POLICY, issues);
  // The claim is renewed once per poll: a few polls must fit in one claim lifetime.
  if (e.SPOTJOBS_CLUSTERS_POLL_SECONDS * 3 > common.claimTtlMs / 1000)
    issues.push(
      'SPOTJOBS_CLUSTERS_POLL_SECONDS: must be at most a third of SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS',
    );
  const notifySet = [e.SPOTJOBS_CLUSTERS_NOTIFY_FROM !== undefined, e.SPOTJOBS_CLUSTERS_NOTIFY_TO.length > 0];
  if (notifySet[0] !== notifySet[1])
    issues.push(
      'SPOTJOBS_CLUSTERS_NOTIFY_FROM, SPOTJOBS_CLUSTERS_NOTIFY_TO: set both for e-mail, or neither',
    );
  if (issues.length > 0) throw new ValidationError(INVALID_CONFIG, issues);
  return deepFreeze({
    ...common,
    customizerBucket: e.SPOTJOBS_CLUSTERS_CUSTOMIZER_BUCKET,
    clusters: {
      bucket: e.SPOTJOBS_CLUSTERS_BUCKET,
      homePrefix: e.SPOTJOBS_CLUSTERS_HOME_PREFIX,
      customizerPrefix: e.SPOTJOBS_CLUSTERS_CUSTOMIZER_PREFIX,
      stackPrefix: e.SPOTJOBS_CLUSTERS_STACK_PREFIX,
      templateUrl: e.SPOTJOBS_CLUSTERS_TEMPLATE_URL,
      capabilities: e.SPOTJOBS_CLUSTERS_CAPABILITIES,
      policy,
      loginOutput: e.SPOTJOBS_CLUSTERS_LOGIN_OUTPUT,
      createTimeoutMinutes: e.SPOTJOBS_CLUSTERS_CREATE_TIMEOUT_MINUTES,
      deleteTimeoutMinutes: e.SPOTJOBS_CLUSTERS_DELETE_TIMEOUT_MINUTES,
      onFailure: e.SPOTJOBS_CLUSTERS_ON_FAILURE,
      roleArn: e.SPOTJOBS_CLUSTERS_ROLE_ARN,
      pollIntervalMs: e.SPOTJOBS_CLUSTERS_POLL_SECONDS * 1000,
      maxRequestBytes: e.SPOTJOBS_CLUSTERS_MAX_REQUEST_BYTES,
      legacyStackNames: e.SPOTJOBS_CLUSTERS_LEGACY_STACK_NAMES,
    },
    notify: e.SPOTJOBS_CLUSTERS_NOTIFY_FROM
      ? {
          from: e.SPOTJOBS_CLUSTERS_NOTIFY_FROM,
          to: e.SPOTJOBS_CLUSTERS_NOTIFY_TO,
          replyTo: e.SPOTJOBS_CLUSTERS_NOTIFY_REPLY_TO,
          region: e.SPOTJOBS_CLUSTERS_SES_REGION,
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
