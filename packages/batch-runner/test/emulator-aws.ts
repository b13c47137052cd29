// S3 (fauxqs) and DynamoDB (dynalite) for the trigger and cluster integration tests: SDK
// clients on the emulators the global set-up started, the test's buckets and claims table
// made before its tests and the clients closed after them, and uploads with the event S3 sends.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureDynamoTable, ensureS3Bucket } from '@spotjobs/core/aws';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import { afterAll, beforeAll, inject } from 'vitest';
import {
  encodeS3EventKey,
  type FixtureName,
  type RecordChanges,
  type S3EventJson,
  s3Event,
} from './trigger-test-kit.ts';

/** The emulator clients a test file uses. */
export interface EmulatorAws {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
}

/**
 * Clients on the emulators, with `buckets` and the DynamoDB `table` created in `beforeAll`
 * (call at the top level of a test file; names should carry a random suffix).
 *
 * @example
 * ```ts
 * const { s3, dynamodb } = useEmulatorAws({ buckets: [`jobs-in-${suffix}`], table: `triggers-${suffix}` });
 * ```
 */
export function useEmulatorAws(names: { buckets: readonly string[]; table: string }): EmulatorAws {
  const endpoints = inject('emulators');
  const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3 });
  const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: endpoints.dynamodb });
  beforeAll(async () => {
    for (const bucket of names.buckets) await ensureS3Bucket(s3, bucket);
    await ensureDynamoTable(dynamodb, names.table);
  });
  afterAll(() => {
    s3.destroy();
    dynamodb.destroy();
  });
  return { s3, dynamodb };
}

// Sequencers grow with each PUT in this file, as S3's do for one key; the random tail keeps
// two files' events apart.
const sequencerTail = randomUUID().slice(0, 8).toUpperCase();
let puts = 0;

/**
 * A user uploads `body` to `bucket`/`key`; resolves with the S3 event notification that PUT
 * causes, shaped like the `fixture` event, with the encoded key, the stored size and a
 * sequencer later than any earlier upload's (`changes` override fields, e.g. `versionId`).
 *
 * @example
 * ```ts
 * const event = await putWithEvent(s3, 'object-created-put', bucket, 'jobs/run.sh', 'echo hi', { versionId: null });
 * ```
 */
export async function putWithEvent(
  s3: S3Client,
  fixture: FixtureName,
  bucket: string,
  key: string,
  body: string,
  changes: RecordChanges = {},
): Promise<S3EventJson> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return s3Event(fixture, {
    bucket,
    rawKey: encodeS3EventKey(key),
    size: head.ContentLength ?? 0,
    sequencer: `${(++puts).toString(16).toUpperCase().padStart(16, '0')}${sequencerTail}`,
    ...changes,
  });
}

/**
 * A user uploads a cluster request (`<name>.cf-create` or `<name>.cf-delete`); resolves with
 * the event S3 then sends, shaped like the fixture for that action.
 *
 * @example
 * ```ts
 * const event = await putClusterRequest(s3, usersBucket, 'home/alice/demo.cf-create', '{}');
 * ```
 */
export function putClusterRequest(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
): Promise<S3EventJson> {
  const fixture = key.endsWith('.cf-delete') ? 'cluster-delete' : 'cluster-create';
  return putWithEvent(s3, fixture, bucket, key, body);
}
