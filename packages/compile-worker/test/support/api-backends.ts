// The compile API served over real HTTP on each backend family: the embedded default (a temp
// data dir) and the AWS adapters on the emulators (fauxqs SQS + S3, dynalite). One factory per
// family; the suite in compile-api-suite.ts runs against both.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { BlobStore, Clock, Queue, Table } from '@spotjobs/core';
import {
  DynamoTable,
  ensureDynamoTable,
  ensureS3Bucket,
  ensureSqsQueue,
  S3BlobStore,
  SqsQueue,
} from '@spotjobs/core/aws';
import { awsTestClientConfig, type EmulatorEndpoints } from '@spotjobs/core/testing';
import { onTestFinished } from 'vitest';
import { CompileApi } from '../../src/api/compile-api.ts';
import type { BuildPolicy } from '../../src/build/build-policy.ts';
import { BuildService } from '../../src/build/build-service.ts';
import type { BuilderProfile } from '../../src/build/builder-profile.ts';
import { startCompileServer } from '../../src/http/compile-server.ts';
import { startLocalCompileServer } from '../../src/local/local-compile.ts';
import { tempStore, testProfile } from './local-builds.ts';

export const API_KEY = 'test-key-0123456789abcdef';

/** A running compile API and the backend behind it, torn down after the current test. */
export interface ApiBackend {
  readonly url: string;
  readonly builds: BuildService;
  readonly queue: Queue;
  readonly table: Table;
  readonly blobs: BlobStore;
}

export interface BackendOptions {
  readonly policy?: Partial<BuildPolicy>;
  readonly openReads?: boolean;
  readonly clock?: Clock;
  /** Default `testProfile` (a made-up pinned digest). */
  readonly profile?: BuilderProfile;
}

export type BackendFactory = (options?: BackendOptions) => Promise<ApiBackend>;

/** The embedded default: LocalStore in a temp dir, presigned blobs served by the same server. */
export const localBackend: BackendFactory = async (options = {}) => {
  const store = await tempStore(options.clock);
  const suffix = randomUUID().slice(0, 8);
  const server = await startLocalCompileServer({
    store,
    profile: testProfile,
    apiKeys: [API_KEY],
    queueName: `compile-${suffix}`,
    tableName: `builds-${suffix}`,
    ...options,
  });
  onTestFinished(() => server.close());
  return {
    url: server.url,
    builds: server.builds,
    queue: store.queue(`compile-${suffix}`),
    table: store.table(`builds-${suffix}`),
    blobs: server.blobs,
  };
};

/** The AWS adapters on the emulators, each test on its own queue, table and bucket. */
export function emulatorBackend(endpoints: EmulatorEndpoints): BackendFactory {
  return async (options = {}) => {
    const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: endpoints.sqs });
    const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3 });
    const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: endpoints.dynamodb });
    onTestFinished(() => {
      sqs.destroy();
      s3.destroy();
      dynamodb.destroy();
    });
    const suffix = randomUUID().slice(0, 8);
    const { queueUrl, deadLetterQueueUrl } = await ensureSqsQueue(sqs, `compile-${suffix}`);
    await ensureDynamoTable(dynamodb, `builds-${suffix}`);
    await ensureS3Bucket(s3, `artifacts-${suffix}`);
    const queue = new SqsQueue({ client: sqs, queueUrl, deadLetterQueueUrl });
    const table = new DynamoTable({ client: dynamodb, tableName: `builds-${suffix}` });
    const blobs = new S3BlobStore({ client: s3, bucket: `artifacts-${suffix}` });
    const builds = new BuildService({
      table,
      queue,
      profile: options.profile ?? testProfile,
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const api = new CompileApi({
      builds,
      blobs,
      apiKeys: [API_KEY],
      ...(options.openReads !== undefined ? { openReads: options.openReads } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const server = await startCompileServer({ setup: () => ({ api }) });
    onTestFinished(() => server.close());
    return { url: server.url, builds, queue, table, blobs };
  };
}
