import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { onTestFinished } from 'vitest';
import { DynamoTable, ensureDynamoTable, ensureS3Bucket } from '../../src/adapters/aws/index.ts';
import type { BlobStore } from '../../src/ports/blob-store.ts';
import type { Table } from '../../src/ports/table.ts';
import { awsTestClientConfig, type EmulatorEndpoints } from '../../src/testing/emulators.ts';
import { tempStore } from '../fixtures/local-temp-store.ts';
import { openWorld, type WorldConfig } from '../fixtures/runner-world.ts';
import { localBackend, type RunnerBackendQueue, sqsBackend } from './runner-backends.ts';

/** Everything a runner with claims and checkpoints needs on one backend family. */
export interface RunnerWorld extends RunnerBackendQueue {
  readonly name: 'aws' | 'local';
  readonly table: Table;
  readonly blobs: BlobStore;
  /** How another runner (in this process or a child, see `fixtures/runner-world.ts`) opens the same world. */
  readonly config: WorldConfig;
}

export interface RunnerWorldFactory {
  readonly name: 'aws' | 'local';
  create(options: { visibilitySeconds: number }): Promise<RunnerWorld>;
}

/** SqsQueue + DynamoTable + S3BlobStore on the emulators, with unique names per test. */
export function awsWorld(endpoints: EmulatorEndpoints): RunnerWorldFactory {
  return {
    name: 'aws',
    async create({ visibilitySeconds }) {
      const q = await sqsBackend(endpoints.sqs).create({ visibilitySeconds });
      const suffix = randomUUID().slice(0, 8);
      const tableName = `runner-${suffix}`;
      const bucket = `runner-${suffix}`;
      const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: endpoints.dynamodb });
      const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3, forcePathStyle: true });
      await ensureDynamoTable(dynamodb, tableName);
      await ensureS3Bucket(s3, bucket);
      onTestFinished(async () => {
        await dynamodb.send(new DeleteTableCommand({ TableName: tableName })).catch(() => {});
        dynamodb.destroy();
        s3.destroy();
      });
      const config: WorldConfig = {
        backend: 'aws',
        sqsEndpoint: endpoints.sqs,
        dynamodbEndpoint: endpoints.dynamodb,
        s3Endpoint: endpoints.s3,
        queueUrl: q.env.RUNNER_QUEUE_URL!,
        deadLetterQueueUrl: q.env.RUNNER_DLQ_URL!,
        tableName,
        bucket,
      };
      const opened = await openWorld(config);
      onTestFinished(() => opened.close());
      return {
        ...q,
        name: 'aws',
        table: new DynamoTable({ client: dynamodb, tableName }),
        blobs: opened.blobs,
        config,
      };
    },
  };
}

/** LocalQueue + LocalTable + FsBlobStore in one temp data dir. */
export const localWorld: RunnerWorldFactory = {
  name: 'local',
  async create({ visibilitySeconds }) {
    const q = await localBackend.create({ visibilitySeconds });
    const store = await tempStore({ dataDir: q.env.RUNNER_DATA_DIR });
    const config: WorldConfig = {
      backend: 'local',
      dataDir: q.env.RUNNER_DATA_DIR!,
      queueName: q.env.RUNNER_QUEUE_NAME!,
    };
    return {
      ...q,
      name: 'local',
      table: store.table('runner'),
      blobs: store.blobs({ namespace: 'checkpoints' }),
      config,
    };
  },
};
