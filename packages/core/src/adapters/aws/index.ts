// `@spotjobs/core/aws`: the ports on AWS (SQS, S3, DynamoDB) with the AWS SDK v3, plus
// provisioning helpers for tests and local development. The only place `@aws-sdk/*` is used.
export { DynamoTable, type DynamoTableOptions } from './dynamo-table.ts';
export {
  type EnsuredSqsQueue,
  type EnsureSqsQueueOptions,
  ensureDynamoTable,
  ensureS3Bucket,
  ensureSqsQueue,
} from './provision.ts';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.ts';
export { SqsQueue, type SqsQueueOptions } from './sqs-queue.ts';
export { type AwsErrorContext, translateAwsError } from './translate-aws-error.ts';
