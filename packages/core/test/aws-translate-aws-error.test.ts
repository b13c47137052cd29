import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { NoSuchBucket, NoSuchKey, NotFound } from '@aws-sdk/client-s3';
import { QueueDoesNotExist, ReceiptHandleIsInvalid } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { translateAwsError } from '../src/adapters/aws/index.ts';
import {
  AbortedError,
  BackendError,
  ConditionFailedError,
  NotFoundError,
  ValidationError,
} from '../src/errors.ts';

const $metadata = (httpStatusCode?: number) => ({ $metadata: { httpStatusCode } });
const context = { operation: 'Op', key: 'the-key', container: 'the-container' };

/** An error shaped like what the SDK's deserialisers throw for an unmodelled code. */
function serviceError(name: string, status: number | undefined, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(`${name} happened`), { name, ...$metadata(status), ...extra });
}

describe('translateAwsError', () => {
  it('maps conditional-write failures to ConditionFailedError carrying the key', () => {
    const dynamo = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      ...$metadata(400),
    });
    const s3 = serviceError('PreconditionFailed', 412);
    const headWithoutBody = serviceError('Unknown', 412);

    for (const err of [dynamo, s3, headWithoutBody]) {
      const translated = translateAwsError(err, context);
      expect(translated).toBeInstanceOf(ConditionFailedError);
      expect((translated as ConditionFailedError).key).toBe('the-key');
      expect(translated.cause).toBe(err);
    }
  });

  it('maps a missing item to NotFoundError(key) and a missing container to NotFoundError(container)', () => {
    const item = [
      new NoSuchKey({ message: 'gone', ...$metadata(404) }),
      new NotFound({ message: '', ...$metadata(404) }),
    ];
    const container = [
      new NoSuchBucket({ message: 'no bucket', ...$metadata(404) }),
      new QueueDoesNotExist({ message: 'no queue', ...$metadata(400) }),
      new ResourceNotFoundException({ message: 'no table', ...$metadata(400) }),
      // SQS's query-compatible code, as AWS sends it in x-amzn-query-error.
      serviceError('QueueDoesNotExist', 400, { Code: 'AWS.SimpleQueueService.NonExistentQueue' }),
      serviceError('AWS.SimpleQueueService.NonExistentQueue', 400),
    ];

    for (const err of item) expect((translateAwsError(err, context) as NotFoundError).key).toBe('the-key');
    for (const err of container) {
      const translated = translateAwsError(err, context);
      expect(translated).toBeInstanceOf(NotFoundError);
      expect((translated as NotFoundError).key).toBe('the-container');
    }
  });

  it('maps throttling, 429, 5xx and network errors to retryable BackendError', () => {
    const retryable = [
      new ProvisionedThroughputExceededException({ message: 'slow down', ...$metadata(400) }),
      serviceError('ThrottlingException', 400, { $retryable: { throttling: true } }),
      serviceError('SlowDown', 503),
      serviceError('RequestThrottled', 403),
      serviceError('Whatever', 429),
      serviceError('InternalError', 500, { $fault: 'server' }),
      serviceError('ServiceUnavailable', 503),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
    ];

    for (const err of retryable) {
      const translated = translateAwsError(err, context);
      expect(translated, String(err)).toBeInstanceOf(BackendError);
      expect((translated as BackendError).retryable, String(err)).toBe(true);
      expect(translated.cause).toBe(err);
    }
  });

  it('maps aborts to AbortedError, including a timeout raised while the call’s signal is aborted', () => {
    const controller = new AbortController();
    controller.abort();
    const sdkAbort = Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    const timeoutWhileAborted = Object.assign(new Error('timed out'), { name: 'TimeoutError' });

    expect(translateAwsError(sdkAbort, context)).toBeInstanceOf(AbortedError);
    expect(translateAwsError(timeoutWhileAborted, { ...context, signal: controller.signal })).toBeInstanceOf(
      AbortedError,
    );
  });

  it('maps validation codes to ValidationError with the service message as the issue', () => {
    const invalid = [
      serviceError('ValidationException', 400),
      serviceError('AWS.SimpleQueueService.InvalidParameterValue', 400),
      serviceError('InvalidArgument', 400),
      serviceError('BatchEntryIdsNotDistinct', 400),
      serviceError('EntityTooLarge', 400),
    ];

    for (const err of invalid) {
      const translated = translateAwsError(err, context);
      expect(translated, err.name).toBeInstanceOf(ValidationError);
      expect((translated as ValidationError).issues).toEqual([err.message]);
    }
  });

  it('maps auth and other client errors to non-retryable BackendError', () => {
    const fatal = [
      serviceError('AccessDenied', 403),
      serviceError('InvalidClientTokenId', 403),
      new ReceiptHandleIsInvalid({ message: 'bad handle', ...$metadata(400) }),
      new Error('Region is missing'),
      'a string thrown by someone',
    ];

    for (const err of fatal) {
      const translated = translateAwsError(err, context);
      expect(translated, String(err)).toBeInstanceOf(BackendError);
      expect((translated as BackendError).retryable, String(err)).toBe(false);
    }
  });

  it('passes spotjobs errors through unchanged', () => {
    const ours = new ValidationError('already translated');

    expect(translateAwsError(ours, context)).toBe(ours);
  });
});
