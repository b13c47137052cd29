import {
  AbortedError,
  BackendError,
  ConditionFailedError,
  NotFoundError,
  SpotjobsError,
  ValidationError,
} from '../../errors.ts';

/** What a failed AWS call was about, so the translated error can name it. */
export interface AwsErrorContext {
  /** The SDK operation, for the message: `'PutObject'`, `'ChangeMessageVisibilityBatch'`. */
  readonly operation: string;
  /** The item the call was about: blob key, table key, lease; carried by `NotFoundError`/`ConditionFailedError`. */
  readonly key: string;
  /** The bucket, queue or table; named instead of `key` when the container itself is missing. */
  readonly container?: string;
  /** The call's signal: a timeout error raised while it is aborted is an abort, not a network fault. */
  readonly signal?: AbortSignal | undefined;
}

// Error codes by meaning. SQS speaks AWS JSON with query-compatible codes, so one error can
// surface as `QueueDoesNotExist` (name) or `AWS.SimpleQueueService.NonExistentQueue` (Code);
// `normalise` keeps the part after the last `.` or `#` and we list both spellings.
const CONDITION = new Set(['ConditionalCheckFailedException', 'PreconditionFailed']);
const CONTAINER_MISSING = new Set([
  'NoSuchBucket',
  'QueueDoesNotExist',
  'NonExistentQueue',
  'ResourceNotFoundException',
]);
const ITEM_MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'KmsThrottled',
  'OverLimit',
  'ConditionalRequestConflict',
  'TransactionInProgressException',
]);
const NETWORK = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);
const INVALID = new Set([
  'ValidationException',
  'SerializationException',
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'MissingParameter',
  'InvalidAttributeName',
  'InvalidAttributeValue',
  'InvalidMessageContents',
  'BatchEntryIdsNotDistinct',
  'TooManyEntriesInBatchRequest',
  'EmptyBatchRequest',
  'InvalidBatchEntryId',
  'BatchRequestTooLong',
  'InvalidArgument',
  'InvalidRequest',
  'EntityTooLarge',
  'EntityTooSmall',
  'KeyTooLongError',
  'MetadataTooLarge',
  'InvalidBucketName',
  'InvalidPart',
  'InvalidPartOrder',
  'ItemCollectionSizeLimitExceededException',
]);

interface AwsLikeError {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly Code?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: { readonly throttling?: boolean };
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function normalise(code: unknown): string | undefined {
  if (typeof code !== 'string' || code === '') return undefined;
  return code.slice(Math.max(code.lastIndexOf('.'), code.lastIndexOf('#')) + 1);
}

/** Every spelling of the error's code: its `name`, `Code` (query-compatible) and `code` (Node). */
export function awsErrorCodes(err: unknown): Set<string> {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsLikeError;
  const codes = new Set<string>();
  for (const raw of [e.name, e.Code, e.code]) {
    const code = normalise(raw);
    if (code) codes.add(code);
  }
  return codes;
}

function hasAny(codes: Set<string>, wanted: Set<string>): boolean {
  for (const code of codes) if (wanted.has(code)) return true;
  return false;
}

/**
 * Maps an AWS SDK v3 error (or a Node network error under it) to the `@spotjobs/core` error
 * with the same meaning, keeping the original as `cause`. The one place that knows AWS
 * error codes, so callers match on `ConditionFailedError` and friends only.
 *
 * | AWS | spotjobs |
 * |---|---|
 * | abort (`AbortError`, or a timeout while the call's signal is aborted) | `AbortedError` |
 * | `ConditionalCheckFailedException`, S3 412 `PreconditionFailed` | `ConditionFailedError(key)` |
 * | `NoSuchKey`, `NotFound` (404 HEAD) | `NotFoundError(key)` |
 * | `NoSuchBucket`, `QueueDoesNotExist`, `ResourceNotFoundException` | `NotFoundError(container)` |
 * | validation codes (`ValidationException`, `InvalidParameterValue`, ...) | `ValidationError` |
 * | throttling, 429, 5xx, network/socket errors | `BackendError(retryable: true)` |
 * | anything else (auth, other 4xx, config) | `BackendError(retryable: false)` |
 *
 * @example
 * ```ts
 * try { await client.send(new GetObjectCommand({ Bucket, Key }), { abortSignal: signal }); }
 * catch (err) { throw translateAwsError(err, { operation: 'GetObject', key, container: Bucket, signal }); }
 * ```
 */
export function translateAwsError(err: unknown, context: AwsErrorContext): SpotjobsError {
  if (err instanceof SpotjobsError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsLikeError;
  const codes = awsErrorCodes(err);
  const status = e.$metadata?.httpStatusCode;
  const detail = typeof e.message === 'string' && e.message !== '' ? e.message : [...codes].join(', ');
  const what = `${context.operation} ${context.container ? `${context.container}/` : ''}${context.key}`;

  if (
    codes.has('AbortError') ||
    (context.signal?.aborted && (codes.has('TimeoutError') || status === undefined))
  ) {
    return new AbortedError({ cause: err });
  }
  if (hasAny(codes, CONDITION) || status === 412)
    return new ConditionFailedError(context.key, { cause: err });
  if (hasAny(codes, CONTAINER_MISSING))
    return new NotFoundError(context.container ?? context.key, { cause: err });
  if (hasAny(codes, ITEM_MISSING) || status === 404) return new NotFoundError(context.key, { cause: err });
  if (hasAny(codes, THROTTLED) || e.$retryable?.throttling === true || status === 429) {
    return new BackendError(`${what} throttled: ${detail}`, true, { cause: err });
  }
  if ((status !== undefined && status >= 500) || e.$fault === 'server') {
    return new BackendError(`${what} failed on the server: ${detail}`, true, { cause: err });
  }
  if (hasAny(codes, NETWORK))
    return new BackendError(`${what} network error: ${detail}`, true, { cause: err });
  if (hasAny(codes, INVALID)) return new ValidationError(`${what} rejected`, [detail], { cause: err });
  return new BackendError(`${what} failed: ${detail}`, false, { cause: err });
}
