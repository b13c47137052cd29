import { randomUUID } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { isAbsolute, normalize } from 'node:path';
import { ValidationError } from '@spotjobs/core';
import { z } from 'zod';
import { parseArgvWords } from './run/argv-words.ts';
import { RunnerExitCodes } from './run/exit-codes.ts';
import { parseSecretReference, type SecretReference } from './secrets/secret-reference.ts';
import { folderOf, parseS3Uri, type S3Location } from './staging/s3-location.ts';
import type { InputPlan } from './staging/stage-inputs.ts';

// The only reader of process.env in the runner: the SCAR compat variables (EXEC_TYPE, APP_BIN,
// APP_PARAMS, INPUT_FILE_PATH, TMP_OUTPUT_DIR, AWS_BATCH_*, EVENT) and the runner's own
// SPOTJOBS_* settings, parsed and cross-checked once into a frozen object.

/** How this process takes part in the job. */
export type NodeRole = 'single' | 'main' | 'child';

/** Every setting of one run; times in ms, sizes in bytes. */
export interface RunnerConfig {
  readonly mode: 'lambda' | 'batch';
  readonly role: NodeRole;
  /** Names the run's outputs: the Batch job id without a `#<node>` suffix, or the Lambda request id. */
  readonly runId: string;
  readonly attempt: number;
  readonly node: {
    readonly index: number;
    readonly count: number;
    readonly mainIndex: number;
    /** The main node's address (children only, from AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS). */
    readonly mainAddress: string | undefined;
    /** Overrides of what is read from the container (SPOTJOBS_NODE_ADDRESS / _INTERFACE / _SLOTS). */
    readonly address: string | undefined;
    readonly interfaceName: string | undefined;
    readonly slots: number | undefined;
  };
  readonly app: {
    readonly bin: string;
    /** APP_PARAMS as argv words, placeholders not yet filled. */
    readonly params: readonly string[];
    /** Multi-node: what runs APP_BIN on the main node (`mpirun --hostfile {hostfile}`); empty: APP_BIN itself. */
    readonly launcher: readonly string[];
    /** Multi-node: what a child runs while the job lasts (an sshd, a worker daemon); empty: nothing. */
    readonly childCommand: readonly string[];
  };
  /** S3 inputs, or `undefined` when the run has none. */
  readonly inputs: InputPlan | undefined;
  /** INPUT_FILE_PATH given directly (a file in the image), when there is no S3 trigger object. */
  readonly inputFilePath: string | undefined;
  readonly workDir: string;
  /** TMP_OUTPUT_DIR; unset: `<workDir>/spotjobs-<runId>/output`, the same path on every node. */
  readonly outputDir: string | undefined;
  /** Where outputs go (`<prefix>/<runId>/`, children `…/node-<i>/`), or `undefined`: kept local. */
  readonly outputDestination: S3Location | undefined;
  readonly uploadConcurrency: number;
  readonly rendezvous: {
    readonly port: number;
    readonly joinTimeoutMs: number;
    readonly mainGoneMs: number;
    readonly donePollMs: number;
    readonly childFinishMs: number;
    readonly secret: SecretReference | undefined;
  };
  readonly termination: { readonly graceMs: number; readonly exitCode: number };
  /** `APP_SECRET_*` variables and the secrets they point at. */
  readonly secrets: ReadonlyMap<string, SecretReference>;
  readonly s3ForcePathStyle: boolean;
  readonly logLevel: string;
  /** The environment the app inherits (secret references still in place; the runner swaps in values). */
  readonly appEnv: Readonly<Record<string, string>>;
}

const GiB = 1024 ** 3;
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const int = (min: number, max: number, fallback: number) =>
  optional.pipe(wholeNumber(min, max).optional()).transform((v) => v ?? fallback);
const optionalInt = (min: number, max: number) => optional.pipe(wholeNumber(min, max).optional());
const absolutePath = optional.pipe(
  z
    .string()
    .refine((p) => isAbsolute(p) && !p.includes('\0'), 'must be an absolute path')
    .refine((p) => normalize(p) !== '/', 'must not be /')
    .optional(),
);
const flag = (fallback: boolean) =>
  optional
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional())
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes'));
// Batch job ids are UUIDs, array children add `:<index>`, MNP nodes `#<index>`; Lambda request ids are UUIDs.
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const envSchema = z.object({
  EXEC_TYPE: optional.pipe(
    z
      .string()
      .transform((v) => v.toLowerCase())
      .pipe(z.enum(['lambda', 'batch'], { message: 'must be lambda or batch' }))
      .optional(),
  ),
  APP_BIN: z
    .string({ message: 'is required (the program to run)' })
    .trim()
    .min(1, 'is required (the program to run)')
    .refine((v) => !v.includes('\0'), 'contains a NUL character'),
  APP_PARAMS: z.string().optional(),
  INPUT_FILE_PATH: absolutePath,
  TMP_OUTPUT_DIR: absolutePath,
  EVENT: optional,
  AWS_BATCH_JOB_ID: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}(#\d{1,4})?$/)
      .optional(),
  ),
  AWS_BATCH_JOB_ATTEMPT: int(1, 10_000, 1),
  AWS_BATCH_JOB_NUM_NODES: int(1, 1000, 1),
  AWS_BATCH_JOB_NODE_INDEX: int(0, 999, 0),
  AWS_BATCH_JOB_MAIN_NODE_INDEX: int(0, 999, 0),
  AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: optional.pipe(
    z.string().refine(isIPv4, 'must be an IPv4 address').optional(),
  ),
  AWS_LAMBDA_REQUEST_ID: optional.pipe(z.string().regex(RUN_ID, 'must be a request id').optional()),
  SPOTJOBS_RUN_ID: optional.pipe(
    z.string().regex(RUN_ID, 'must be letters, digits and _.:- (max 128)').optional(),
  ),
  SPOTJOBS_INPUT_URI: optional,
  SPOTJOBS_INPUT_ETAG: optional.pipe(
    z
      .string()
      .regex(/^"?[A-Za-z0-9-]{1,64}"?$/, 'must be an ETag')
      .optional(),
  ),
  SPOTJOBS_EXTRA_INPUTS: optional,
  SPOTJOBS_INPUT_PREFIXES: optional,
  SPOTJOBS_OUTPUT_URI: optional,
  SPOTJOBS_MAX_INPUT_BYTES: int(1, 5 * 1024 * GiB, 10 * GiB),
  SPOTJOBS_MAX_EXTRACTED_BYTES: int(1, 50 * 1024 * GiB, 50 * GiB),
  SPOTJOBS_MAX_ARCHIVE_ENTRIES: int(1, 10_000_000, 100_000),
  SPOTJOBS_WORK_DIR: absolutePath,
  SPOTJOBS_UPLOAD_CONCURRENCY: int(1, 64, 4),
  SPOTJOBS_LAUNCHER: optional,
  SPOTJOBS_CHILD_COMMAND: optional,
  SPOTJOBS_NODE_ADDRESS: optional.pipe(z.string().refine(isIPv4, 'must be an IPv4 address').optional()),
  SPOTJOBS_NODE_INTERFACE: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'must be an interface name')
      .optional(),
  ),
  SPOTJOBS_NODE_SLOTS: optionalInt(1, 100_000),
  SPOTJOBS_RENDEZVOUS_PORT: int(1, 65_535, 7650),
  SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS: int(1, 86_400, 600),
  SPOTJOBS_RENDEZVOUS_SECRET: optional,
  SPOTJOBS_MAIN_GONE_SECONDS: int(1, 3600, 10),
  SPOTJOBS_DONE_POLL_SECONDS: int(1, 300, 20),
  SPOTJOBS_CHILD_FINISH_SECONDS: int(0, 3600, 60),
  SPOTJOBS_TERM_GRACE_SECONDS: int(0, 3600, 10),
  SPOTJOBS_TERM_EXIT_CODE: int(1, 255, RunnerExitCodes.terminated),
  SPOTJOBS_S3_FORCE_PATH_STYLE: flag(false),
  SPOTJOBS_LOG_LEVEL: optional
    .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional())
    .transform((v) => v ?? 'info'),
});

const INVALID_CONFIG = 'invalid batch-runner configuration';
const SECRET_VARIABLE = /^APP_SECRET_[A-Z0-9_]+$/;

/**
 * Reads the runner's settings from `env`. Every problem is collected and thrown at once as a
 * `ValidationError` whose `issues` each start with the variable's name.
 *
 * @example
 * ```ts
 * const config = loadRunnerConfig({ EXEC_TYPE: 'batch', APP_BIN: '/opt/app', AWS_BATCH_JOB_ID: 'f00', SPOTJOBS_OUTPUT_URI: 's3://results/out/' });
 * config.outputDestination; // { bucket: 'results', key: 'out/f00/' }
 * ```
 */
export function loadRunnerConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  defaults: { tmpDir: string; newRunId?: () => string } = { tmpDir: '/tmp' },
): RunnerConfig {
  const parsed = envSchema.safeParse(env);
  const secrets = secretReferences(env);
  if (!parsed.success)
    throw new ValidationError(INVALID_CONFIG, [
      ...parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
      ...secrets.issues,
    ]);
  const e = parsed.data;
  const issues: string[] = [...secrets.issues];
  const words = (name: string, value: string | undefined): string[] => {
    const result = parseArgvWords(value);
    if ('problem' in result) {
      issues.push(`${name}: ${result.problem}`);
      return [];
    }
    return result.words;
  };

  const mode = e.EXEC_TYPE ?? (e.AWS_BATCH_JOB_ID ? 'batch' : 'lambda');
  const count = e.AWS_BATCH_JOB_NUM_NODES;
  if (e.AWS_BATCH_JOB_NODE_INDEX >= count)
    issues.push(
      `AWS_BATCH_JOB_NODE_INDEX: ${e.AWS_BATCH_JOB_NODE_INDEX} is not below AWS_BATCH_JOB_NUM_NODES (${count})`,
    );
  if (e.AWS_BATCH_JOB_MAIN_NODE_INDEX >= count)
    issues.push(
      `AWS_BATCH_JOB_MAIN_NODE_INDEX: ${e.AWS_BATCH_JOB_MAIN_NODE_INDEX} is not below AWS_BATCH_JOB_NUM_NODES (${count})`,
    );
  if (mode === 'lambda' && count > 1)
    issues.push('AWS_BATCH_JOB_NUM_NODES: multi-node runs need EXEC_TYPE=batch');
  const role: NodeRole =
    mode === 'batch' && count > 1
      ? e.AWS_BATCH_JOB_NODE_INDEX === e.AWS_BATCH_JOB_MAIN_NODE_INDEX
        ? 'main'
        : 'child'
      : 'single';
  if (role === 'child' && !e.AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS)
    issues.push(
      'AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: is required on a child node of a multi-node job',
    );

  let runId: string;
  if (mode === 'batch') {
    if (!e.AWS_BATCH_JOB_ID) issues.push('AWS_BATCH_JOB_ID: is required with EXEC_TYPE=batch');
    // Every node of a multi-node job shares the job id; a node's own id adds `#<index>`.
    runId = (e.AWS_BATCH_JOB_ID ?? '').replace(/#\d+$/, '');
  } else runId = e.AWS_LAMBDA_REQUEST_ID ?? e.SPOTJOBS_RUN_ID ?? (defaults.newRunId ?? randomUUID)();

  const inputs = inputPlan(e, issues);
  if (inputs?.trigger && e.INPUT_FILE_PATH)
    issues.push('INPUT_FILE_PATH: is set by the runner when there is an S3 input; leave it unset');

  let outputDestination: S3Location | undefined;
  if (e.SPOTJOBS_OUTPUT_URI) {
    const parsedUri = parseS3Uri(e.SPOTJOBS_OUTPUT_URI, { allowPrefix: true });
    if ('problem' in parsedUri) issues.push(`SPOTJOBS_OUTPUT_URI: ${parsedUri.problem}`);
    else {
      const prefix =
        parsedUri.location.key === '' || parsedUri.location.key.endsWith('/')
          ? parsedUri.location.key
          : `${parsedUri.location.key}/`;
      const node = role === 'child' ? `node-${e.AWS_BATCH_JOB_NODE_INDEX}/` : '';
      outputDestination = { bucket: parsedUri.location.bucket, key: `${prefix}${runId}/${node}` };
    }
  }

  const params = words('APP_PARAMS', e.APP_PARAMS);
  const launcher = words('SPOTJOBS_LAUNCHER', e.SPOTJOBS_LAUNCHER);
  const childCommand = words('SPOTJOBS_CHILD_COMMAND', e.SPOTJOBS_CHILD_COMMAND);
  // The launcher only runs on a multi-node main node; elsewhere its placeholders never apply.
  const used = role === 'main' ? [...params, ...launcher] : params;
  const usesPlaceholder = (name: string) => used.some((w) => w.includes(`{${name}}`));
  if (usesPlaceholder('hostfile') && role !== 'main')
    issues.push('APP_PARAMS: {hostfile} exists only on the main node of a multi-node job');
  if (usesPlaceholder('input') && !inputs?.trigger && !e.INPUT_FILE_PATH)
    issues.push(
      'APP_PARAMS: {input} is used but the run has no input (SPOTJOBS_INPUT_URI, EVENT or INPUT_FILE_PATH)',
    );

  let rendezvousSecret: SecretReference | undefined;
  if (e.SPOTJOBS_RENDEZVOUS_SECRET) {
    const reference = parseSecretReference(e.SPOTJOBS_RENDEZVOUS_SECRET);
    if ('problem' in reference) issues.push(`SPOTJOBS_RENDEZVOUS_SECRET: ${reference.problem}`);
    else rendezvousSecret = reference.reference;
  }

  if (issues.length > 0) throw new ValidationError(INVALID_CONFIG, issues);

  const appEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name !== 'SPOTJOBS_RENDEZVOUS_SECRET') appEnv[name] = value;
  }

  return deepFreeze({
    mode,
    role,
    runId,
    attempt: e.AWS_BATCH_JOB_ATTEMPT,
    node: {
      index: e.AWS_BATCH_JOB_NODE_INDEX,
      count,
      mainIndex: e.AWS_BATCH_JOB_MAIN_NODE_INDEX,
      mainAddress: role === 'child' ? e.AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS : undefined,
      address: e.SPOTJOBS_NODE_ADDRESS,
      interfaceName: e.SPOTJOBS_NODE_INTERFACE,
      slots: e.SPOTJOBS_NODE_SLOTS,
    },
    app: { bin: e.APP_BIN, params, launcher, childCommand },
    inputs,
    inputFilePath: inputs?.trigger ? undefined : e.INPUT_FILE_PATH,
    workDir: e.SPOTJOBS_WORK_DIR ?? defaults.tmpDir,
    outputDir: e.TMP_OUTPUT_DIR,
    outputDestination,
    uploadConcurrency: e.SPOTJOBS_UPLOAD_CONCURRENCY,
    rendezvous: {
      port: e.SPOTJOBS_RENDEZVOUS_PORT,
      joinTimeoutMs: e.SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS * 1000,
      mainGoneMs: e.SPOTJOBS_MAIN_GONE_SECONDS * 1000,
      donePollMs: e.SPOTJOBS_DONE_POLL_SECONDS * 1000,
      childFinishMs: e.SPOTJOBS_CHILD_FINISH_SECONDS * 1000,
      secret: rendezvousSecret,
    },
    termination: { graceMs: e.SPOTJOBS_TERM_GRACE_SECONDS * 1000, exitCode: e.SPOTJOBS_TERM_EXIT_CODE },
    secrets: secrets.references,
    s3ForcePathStyle: e.SPOTJOBS_S3_FORCE_PATH_STYLE,
    logLevel: e.SPOTJOBS_LOG_LEVEL,
    appEnv,
  });
}

/** The `APP_SECRET_*` variables: each must hold a reference, never a plaintext value. */
function secretReferences(env: Readonly<Record<string, string | undefined>>) {
  const references = new Map<string, SecretReference>();
  const issues: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('APP_SECRET_') || value === undefined) continue;
    if (!SECRET_VARIABLE.test(name)) {
      issues.push(`${name}: secret variables are named APP_SECRET_<A-Z0-9_>`);
      continue;
    }
    const reference = parseSecretReference(value);
    if ('problem' in reference) issues.push(`${name}: ${reference.problem}`);
    else references.set(name, reference.reference);
  }
  return { references, issues };
}

type ParsedEnv = z.infer<typeof envSchema>;

/** The S3 inputs from SPOTJOBS_INPUT_URI (or SCAR's EVENT), SPOTJOBS_EXTRA_INPUTS and SPOTJOBS_INPUT_PREFIXES. */
function inputPlan(e: ParsedEnv, issues: string[]): InputPlan | undefined {
  let trigger: S3Location | undefined;
  if (e.SPOTJOBS_INPUT_URI) {
    const parsed = parseS3Uri(e.SPOTJOBS_INPUT_URI);
    if ('problem' in parsed) issues.push(`SPOTJOBS_INPUT_URI: ${parsed.problem}`);
    else trigger = parsed.location;
  } else if (e.EVENT) {
    const fromEvent = triggerFromEvent(e.EVENT);
    if ('problem' in fromEvent) issues.push(`EVENT: ${fromEvent.problem}`);
    else trigger = fromEvent.location;
  }
  const extras: S3Location[] = [];
  const extraWords = parseArgvWords(e.SPOTJOBS_EXTRA_INPUTS);
  if ('problem' in extraWords) issues.push(`SPOTJOBS_EXTRA_INPUTS: ${extraWords.problem}`);
  else
    for (const uri of extraWords.words) {
      const parsed = parseS3Uri(uri);
      if ('problem' in parsed) issues.push(`SPOTJOBS_EXTRA_INPUTS: ${parsed.problem}`);
      else extras.push(parsed.location);
    }
  let allowedPrefixes: S3Location[] = [];
  const prefixWords = parseArgvWords(e.SPOTJOBS_INPUT_PREFIXES);
  if ('problem' in prefixWords) issues.push(`SPOTJOBS_INPUT_PREFIXES: ${prefixWords.problem}`);
  else
    for (const uri of prefixWords.words) {
      const parsed = parseS3Uri(uri, { allowPrefix: true });
      if ('problem' in parsed) issues.push(`SPOTJOBS_INPUT_PREFIXES: ${parsed.problem}`);
      else allowedPrefixes.push(parsed.location);
    }
  if (!trigger && extras.length === 0) return undefined;
  if (allowedPrefixes.length === 0) {
    // By default a job reads the folder its trigger object was uploaded to, and nothing else;
    // a trigger at the bucket root would open the whole bucket, so extras then need prefixes.
    const folder = trigger ? folderOf(trigger) : undefined;
    if (!folder || (folder.key === '' && extras.length > 0)) {
      issues.push(
        'SPOTJOBS_INPUT_PREFIXES: is required for SPOTJOBS_EXTRA_INPUTS unless the trigger object sits in a folder',
      );
      return undefined;
    }
    allowedPrefixes = [folder];
  }
  return {
    trigger: trigger ? { location: trigger, etag: e.SPOTJOBS_INPUT_ETAG } : undefined,
    extras,
    allowedPrefixes,
    maxObjectBytes: e.SPOTJOBS_MAX_INPUT_BYTES,
    maxExtractedBytes: e.SPOTJOBS_MAX_EXTRACTED_BYTES,
    maxArchiveEntries: e.SPOTJOBS_MAX_ARCHIVE_ENTRIES,
  };
}

/**
 * The trigger object of SCAR's `EVENT` (the raw S3 event the faas-supervisor passed to Batch):
 * the first record's bucket and key, the key decoded as S3 event keys are (`+` is a space).
 */
function triggerFromEvent(text: string): { location: S3Location } | { problem: string } {
  const eventSchema = z.object({
    Records: z
      .array(
        z.object({
          s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }),
        }),
      )
      .min(1),
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return { problem: 'is not an S3 event (Records[0].s3.bucket.name, .object.key)' };
  const record = parsed.data.Records[0]!;
  let key: string;
  try {
    key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
  } catch {
    return { problem: 'has an object key that is not valid percent-encoding' };
  }
  return parseS3Uri(`s3://${record.s3.bucket.name}/${key}`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof Map)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * `loadRunnerConfig` for the entrypoint: a wrong setting prints every problem to stderr and
 * exits 78 (EX_CONFIG) instead of a stack trace.
 *
 * @example
 * ```ts
 * const config = loadRunnerConfigOrExit('spotjobs-batch-runner', tmpdir());
 * ```
 */
export function loadRunnerConfigOrExit(program: string, tmpDir: string): RunnerConfig {
  try {
    return loadRunnerConfig(process.env, { tmpDir });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    process.stderr.write(`${program}: ${INVALID_CONFIG}:\n${err.issues.map((i) => `  ${i}\n`).join('')}`);
    process.exit(RunnerExitCodes.badConfig);
  }
}
