// The port conformance suites against the AWS adapters on the emulators started by
// test/global-setup.ts (fauxqs for SQS and S3, dynalite for DynamoDB). Every test gets its own
// queue pair, bucket or table, so tests and files run in parallel without sharing state.
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, inject } from 'vitest';
import {
  DynamoTable,
  ensureDynamoTable,
  ensureS3Bucket,
  ensureSqsQueue,
  S3BlobStore,
  SqsQueue,
} from '../src/adapters/aws/index.ts';
import { blobStoreConformance } from '../src/testing/blob-store-conformance.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';
import { queueConformance } from '../src/testing/queue-conformance.ts';
import { tableConformance } from '../src/testing/table-conformance.ts';

const endpoints = inject('emulators');
const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: endpoints.sqs });
const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3 });
const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: endpoints.dynamodb });
afterAll(() => {
  sqs.destroy();
  s3.destroy();
  dynamodb.destroy();
});

const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 12)}`;

queueConformance('SqsQueue on fauxqs', async () => {
  // maxReceiveCount well above the 3 deliveries a test makes, so SQS's own redrive stays out of the way.
  const { queueUrl, deadLetterQueueUrl } = await ensureSqsQueue(sqs, uniqueName('conformance'), {
    visibilitySeconds: 30,
    maxReceiveCount: 10,
  });
  return {
    queue: new SqsQueue({ client: sqs, queueUrl, deadLetterQueueUrl }),
    deadLetterQueue: new SqsQueue({ client: sqs, queueUrl: deadLetterQueueUrl }),
    async dispose() {
      for (const QueueUrl of [queueUrl, deadLetterQueueUrl])
        await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    },
  };
});

tableConformance('DynamoTable on dynalite', async () => {
  const tableName = uniqueName('conformance');
  await ensureDynamoTable(dynamodb, tableName);
  return {
    table: new DynamoTable({ client: dynamodb, tableName }),
    async dispose() {
      await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
});

blobStoreConformance('S3BlobStore on fauxqs', async () => {
  const bucket = uniqueName('conformance');
  await ensureS3Bucket(s3, bucket);
  return {
    store: new S3BlobStore({ client: s3, bucket, prefix: 'tenant-a/' }),
    // fauxqs ignores If-None-Match on PUT (emulator reference, gotcha G6).
    capabilities: { conditionalPut: false },
    // fauxqs keeps objects in memory: empty the bucket so a run does not pile up 12 MiB bodies.
    async dispose() {
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
        const Objects = (page.Contents ?? []).map(({ Key }) => ({ Key }));
        if (Objects.length > 0)
          await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } }));
        ContinuationToken = page.NextContinuationToken;
      } while (ContinuationToken);
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
  };
});
