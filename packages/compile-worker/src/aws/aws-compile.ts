import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { BlobStore, Logger, Queue, Table } from '@spotjobs/core';
import { DynamoTable, S3BlobStore, SqsQueue } from '@spotjobs/core/aws';
import { CompileApi } from '../api/compile-api.ts';
import { BuildService } from '../build/build-service.ts';
import type { CompileConfig } from '../config.ts';

/** The AWS resources of the compile farm: the SQS queue, the DynamoDB table, the S3 bucket. */
export interface AwsCompileBackend {
  readonly queue: Queue;
  readonly table: Table;
  readonly blobs: BlobStore;
}

/** SDK clients to use instead of default ones (tests against emulators, custom retry settings). */
export interface AwsClients {
  readonly sqs?: SQSClient;
  readonly s3?: S3Client;
  readonly dynamodb?: DynamoDBClient;
}

/**
 * The ports on AWS from the configuration (`config.aws`). Clients default to the SDK's own
 * settings: region and credentials from the environment or instance role, endpoints from
 * `AWS_ENDPOINT_URL_*`. This file and `lambda-entry.ts` are the only ones here that load the SDK.
 *
 * @example
 * ```ts
 * const backend = awsCompileBackend(loadConfig().aws!);
 * ```
 */
export function awsCompileBackend(
  aws: NonNullable<CompileConfig['aws']>,
  clients: AwsClients = {},
): AwsCompileBackend {
  const sqs = clients.sqs ?? new SQSClient({});
  const s3 = clients.s3 ?? new S3Client({ forcePathStyle: aws.forcePathStyle });
  const dynamodb = clients.dynamodb ?? new DynamoDBClient({});
  return {
    queue: new SqsQueue({
      client: sqs,
      queueUrl: aws.queueUrl,
      ...(aws.deadLetterQueueUrl ? { deadLetterQueueUrl: aws.deadLetterQueueUrl } : {}),
    }),
    table: new DynamoTable({ client: dynamodb, tableName: aws.tableName }),
    blobs: new S3BlobStore({
      client: s3,
      bucket: aws.bucket,
      ...(aws.bucketPrefix ? { prefix: aws.bucketPrefix } : {}),
    }),
  };
}

/**
 * The compile API on an AWS backend, configured from `config` (for the Lambda, or the local
 * server pointed at AWS).
 *
 * @example
 * ```ts
 * const api = awsCompileApi(config, awsCompileBackend(config.aws!), logger);
 * ```
 */
export function awsCompileApi(
  config: CompileConfig,
  backend: AwsCompileBackend,
  logger?: Logger,
): CompileApi {
  const builds = new BuildService({
    table: backend.table,
    queue: backend.queue,
    profile: config.profile,
    policy: config.policy,
    ...(logger ? { logger } : {}),
  });
  return new CompileApi({
    builds,
    blobs: backend.blobs,
    apiKeys: config.api.apiKeys,
    apiKeySha256: config.api.apiKeySha256,
    openReads: config.api.openReads,
    stage: config.api.stage,
    presignSeconds: config.api.presignSeconds,
    ...(logger ? { logger } : {}),
  });
}
