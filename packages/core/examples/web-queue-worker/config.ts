// The example's only reader of process.env: every setting is parsed, checked and frozen once
// here, so the rest of the code takes plain typed values and a typo fails at start, not later.

import { ValidationError } from '@spotjobs/core';
import { z } from 'zod';

const MiB = 1024 * 1024;

const port = z.coerce.number().int().min(0).max(65_535);
const name = z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only (1-63)');
const origin = z
  .url({ protocol: /^https?$/ })
  .refine((url) => new URL(url).pathname === '/', 'an origin such as http://host:port, without a path')
  .transform((url) => new URL(url).origin);

const common = {
  SPOTJOBS_HOST: z.string().min(1).default('127.0.0.1'),
  SPOTJOBS_PORT: port.default(8080),
  /** Origin that download links start with, when clients reach the web server by another name. */
  SPOTJOBS_PUBLIC_URL: origin.optional(),
  SPOTJOBS_HEALTH_PORT: port.default(9464),
  SPOTJOBS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  SPOTJOBS_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * MiB)
    .default(8 * MiB),
  SPOTJOBS_MAX_DIMENSION: z.coerce.number().int().min(1).max(16_384).default(4096),
  SPOTJOBS_QUEUE: name.default('images'),
  SPOTJOBS_TABLE: name.default('images'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
};

const local = z.object({
  ...common,
  SPOTJOBS_BACKEND: z.literal('local'),
  SPOTJOBS_DATA_DIR: z.string().min(1).default('./data'),
});

const aws = z.object({
  ...common,
  SPOTJOBS_BACKEND: z.literal('aws'),
  SPOTJOBS_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  // Emulators (fauxqs, dynalite, LocalStack...) or VPC endpoints; unset on AWS itself.
  SPOTJOBS_SQS_ENDPOINT: z.url().optional(),
  SPOTJOBS_S3_ENDPOINT: z.url().optional(),
  SPOTJOBS_DYNAMODB_ENDPOINT: z.url().optional(),
});

const schema = z.discriminatedUnion('SPOTJOBS_BACKEND', [local, aws]);

/** Where the queue, the status table and the images live. */
export type BackendConfig =
  | {
      readonly kind: 'local';
      readonly dataDir: string;
      readonly queue: string;
      readonly table: string;
    }
  | {
      readonly kind: 'aws';
      readonly region: string;
      readonly queue: string;
      readonly table: string;
      readonly bucket: string;
      readonly endpoints: { readonly sqs?: string; readonly s3?: string; readonly dynamodb?: string };
    };

export interface Config {
  readonly web: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string | undefined;
    readonly maxUploadBytes: number;
  };
  readonly worker: { readonly concurrency: number };
  /** Images wider or taller than this are refused (422 at upload, dead-lettered in the worker). */
  readonly maxDimension: number;
  readonly healthPort: number;
  readonly logLevel: string;
  readonly backend: BackendConfig;
}

/**
 * Reads the example's settings from `env`; throws `ValidationError` naming every bad or
 * unknown `SPOTJOBS_*` variable. Empty values count as unset.
 *
 * @example
 * ```ts
 * const config = loadConfig(); // process.env
 * const test = loadConfig({ SPOTJOBS_BACKEND: 'local', SPOTJOBS_DATA_DIR: dir, SPOTJOBS_PORT: '0' });
 * ```
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const given = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const known = new Set([...Object.keys(local.shape), ...Object.keys(aws.shape)]);
  const unknown = Object.keys(given).filter((key) => key.startsWith('SPOTJOBS_') && !known.has(key));
  const parsed = schema.safeParse({ SPOTJOBS_BACKEND: 'local', ...given });
  const issues = [
    ...unknown.map((key) => `${key}: unknown setting`),
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`)),
  ];
  if (issues.length > 0 || !parsed.success) throw new ValidationError('invalid configuration', issues);
  const e = parsed.data;
  const backend: BackendConfig =
    e.SPOTJOBS_BACKEND === 'local'
      ? { kind: 'local', dataDir: e.SPOTJOBS_DATA_DIR, queue: e.SPOTJOBS_QUEUE, table: e.SPOTJOBS_TABLE }
      : {
          kind: 'aws',
          region: e.AWS_REGION,
          queue: e.SPOTJOBS_QUEUE,
          table: e.SPOTJOBS_TABLE,
          bucket: e.SPOTJOBS_BUCKET,
          endpoints: Object.freeze({
            sqs: e.SPOTJOBS_SQS_ENDPOINT,
            s3: e.SPOTJOBS_S3_ENDPOINT,
            dynamodb: e.SPOTJOBS_DYNAMODB_ENDPOINT,
          }),
        };
  return Object.freeze({
    web: Object.freeze({
      host: e.SPOTJOBS_HOST,
      port: e.SPOTJOBS_PORT,
      publicUrl: e.SPOTJOBS_PUBLIC_URL,
      maxUploadBytes: e.SPOTJOBS_MAX_UPLOAD_BYTES,
    }),
    worker: Object.freeze({ concurrency: e.SPOTJOBS_CONCURRENCY }),
    maxDimension: e.SPOTJOBS_MAX_DIMENSION,
    healthPort: e.SPOTJOBS_HEALTH_PORT,
    logLevel: e.LOG_LEVEL,
    backend: Object.freeze(backend),
  });
}
