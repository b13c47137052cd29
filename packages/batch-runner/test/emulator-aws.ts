// S3 (fauxqs) and DynamoDB (dynalite) for the trigger and cluster integration tests: SDK
// clients on the emulators the global set-up started, the test's buckets and claims table
// made before its tests and the clients closed after them.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ensureDynamoTable, ensureS3Bucket } from '@spotjobs/core/aws';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import { afterAll, beforeAll, inject } from 'vitest';

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
