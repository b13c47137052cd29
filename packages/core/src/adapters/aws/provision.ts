import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  HeadBucketCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { throwIfAborted } from '../../errors.ts';
import { QueueLimits } from '../../ports/queue.ts';
import { integerProblem, throwIfProblems } from '../../ports/validation.ts';
import { awsErrorCodes, translateAwsError } from './translate-aws-error.ts';

// Idempotent "make it exist" helpers for tests, benchmarks, examples and local development.
// Production resources come from the CloudFormation templates in deploy/.

export interface EnsureSqsQueueOptions {
  /** The queue's default visibility timeout, seconds (SQS default 30). */
  readonly visibilitySeconds?: number;
  /** Receives before SQS itself moves a message to the dead-letter queue; unset = never. */
  readonly maxReceiveCount?: number;
}

export interface EnsuredSqsQueue {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

async function createOrUpdateQueue(
  client: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
  signal: AbortSignal | undefined,
): Promise<string> {
  const options = { abortSignal: signal };
  try {
    const out = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      options,
    );
    return out.QueueUrl ?? '';
  } catch (err) {
    // CreateQueue is idempotent only with identical attributes; otherwise bring them in line.
    if (!awsErrorCodes(err).has('QueueNameExists') && !awsErrorCodes(err).has('QueueAlreadyExists'))
      throw err;
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }), options);
    await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }), options);
    return QueueUrl ?? '';
  }
}

/**
 * Creates (or updates) queue `name` and its dead-letter queue `${name}-dlq` (for a FIFO queue
 * `x.fifo`, the DLQ is `x-dlq.fifo`). With `maxReceiveCount`, SQS redrives to the DLQ itself.
 *
 * @example
 * ```ts
 * const { queueUrl, deadLetterQueueUrl } = await ensureSqsQueue(sqs, 'builds', { visibilitySeconds: 60 });
 * const queue = new SqsQueue({ client: sqs, queueUrl, deadLetterQueueUrl });
 * ```
 */
export async function ensureSqsQueue(
  client: SQSClient,
  name: string,
  options: EnsureSqsQueueOptions = {},
  signal?: AbortSignal,
): Promise<EnsuredSqsQueue> {
  throwIfProblems('invalid queue options', [
    name ? undefined : 'name is required',
    options.visibilitySeconds === undefined
      ? undefined
      : integerProblem('visibilitySeconds', options.visibilitySeconds, 0, QueueLimits.maxVisibilitySeconds),
    options.maxReceiveCount === undefined
      ? undefined
      : integerProblem('maxReceiveCount', options.maxReceiveCount, 1, 1000),
  ]);
  throwIfAborted(signal);
  const fifo = name.endsWith('.fifo');
  const dlqName = fifo ? `${name.slice(0, -'.fifo'.length)}-dlq.fifo` : `${name}-dlq`;
  const fifoAttributes = fifo ? { FifoQueue: 'true' } : {};
  try {
    const deadLetterQueueUrl = await createOrUpdateQueue(client, dlqName, fifoAttributes, signal);
    const attributes: Partial<Record<QueueAttributeName, string>> = { ...fifoAttributes };
    if (options.visibilitySeconds !== undefined)
      attributes.VisibilityTimeout = String(options.visibilitySeconds);
    if (options.maxReceiveCount !== undefined) {
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
        { abortSignal: signal },
      );
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: Attributes?.QueueArn,
        maxReceiveCount: options.maxReceiveCount,
      });
    }
    const queueUrl = await createOrUpdateQueue(client, name, attributes, signal);
    return { queueUrl, deadLetterQueueUrl };
  } catch (err) {
    throw translateAwsError(err, { operation: 'CreateQueue', key: name, signal });
  }
}

/**
 * Creates bucket `bucket` unless it exists (outside us-east-1 with the client's region as
 * its location).
 *
 * @example
 * ```ts
 * await ensureS3Bucket(s3, 'spotjobs-artifacts');
 * ```
 */
export async function ensureS3Bucket(client: S3Client, bucket: string, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
      return;
    } catch (err) {
      if (!awsErrorCodes(err).has('NotFound') && !awsErrorCodes(err).has('NoSuchBucket')) throw err;
    }
    const region = await client.config.region();
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
      { abortSignal: signal },
    );
  } catch (err) {
    if (err instanceof BucketAlreadyOwnedByYou) return; // created meanwhile by a sibling
    throw translateAwsError(err, { operation: 'CreateBucket', key: bucket, signal });
  }
}

/**
 * Creates a `DynamoTable`-shaped table (string `pk` hash key, string `sk` range key,
 * PAY_PER_REQUEST) unless it exists, and waits until it is ACTIVE.
 *
 * @example
 * ```ts
 * await ensureDynamoTable(dynamodb, 'spotjobs');
 * const table = new DynamoTable({ client: dynamodb, tableName: 'spotjobs' });
 * ```
 */
export async function ensureDynamoTable(
  client: DynamoDBClient,
  tableName: string,
  signal?: AbortSignal,
): Promise<void> {
  throwIfAborted(signal);
  try {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err; // exists already: wait for ACTIVE below
    }
    await waitUntilTableExists(
      { client, maxWaitTime: 300, minDelay: 1, maxDelay: 5, abortSignal: signal },
      { TableName: tableName },
    );
  } catch (err) {
    throw translateAwsError(err, { operation: 'CreateTable', key: tableName, signal });
  }
}
