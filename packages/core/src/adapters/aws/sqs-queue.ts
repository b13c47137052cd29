import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { BackendError, throwIfAborted, ValidationError } from '../../errors.ts';
import { deadLetterAttributes } from '../../ports/dead-letter-attributes.ts';
import {
  type ConsumeOptions,
  type LeaseExtension,
  type LeaseRelease,
  type LeaseResult,
  type OutgoingMessage,
  type Queue,
  type QueueDepth,
  QueueLimits,
  type QueueMessage,
  type ReceiveOptions,
} from '../../ports/queue.ts';
import {
  assertDeadLetter,
  assertLeaseChanges,
  assertLeases,
  assertOutgoingMessages,
  assertReceiveOptions,
  messagePayloadBytes,
} from '../../ports/queue-validation.ts';
import { chunk, failAll, leaseResults, mapGroups, SQS_BATCH } from './sqs-batch.ts';
import { consumeWithSqsConsumer } from './sqs-consume.ts';
import { fromSqsMessage, SYSTEM_ATTRIBUTES, toMessageAttributes, toSendEntry } from './sqs-messages.ts';
import { type AwsErrorContext, translateAwsError } from './translate-aws-error.ts';

export interface SqsQueueOptions {
  /** Your client, configured with region, credentials and (for emulators) `endpoint`. */
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Where `deadLetter` sends messages; without it `deadLetter` throws `ValidationError`. */
  readonly deadLetterQueueUrl?: string;
  /** For logs and metrics; defaults to the queue name in `queueUrl`. */
  readonly name?: string;
}

/**
 * `Queue` on Amazon SQS (standard queues). Polling goes through sqs-consumer, sized by the
 * caller's free capacity; heartbeats, releases and acks are batched
 * `ChangeMessageVisibilityBatch` / `DeleteMessageBatch` calls, 10 entries each.
 *
 * A stale lease (superseded by a newer delivery, released or deleted) is reported by SQS as
 * a failed batch entry (`ReceiptHandleIsInvalid`, `MessageNotInflight`, or on AWS
 * `InvalidParameterValue` naming the receipt handle); `extend` and `release` answer those as
 * `{ ok: false, reason: 'stale' }`. `ack` of a stale lease answers ok on AWS and fauxqs alike.
 *
 * @example
 * ```ts
 * const client = new SQSClient({ region: 'eu-west-1' });
 * const queue = new SqsQueue({ client, queueUrl, deadLetterQueueUrl });
 * await queue.send([{ body: JSON.stringify(job), attributes: { kind: 'build' } }]);
 * const [msg] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 20 });
 * if (msg) await queue.ack([msg.lease]);
 * ```
 */
export class SqsQueue implements Queue {
  readonly name: string;
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #deadLetterQueueUrl: string | undefined;

  constructor(options: SqsQueueOptions) {
    if (!options.queueUrl) throw new ValidationError('SqsQueue needs a queueUrl');
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#deadLetterQueueUrl = options.deadLetterQueueUrl;
    this.name = options.name ?? options.queueUrl.split('/').pop() ?? options.queueUrl;
  }

  async send(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<string[]> {
    assertOutgoingMessages(messages);
    throwIfAborted(signal);
    // SQS caps a batch at 10 messages *and* 1 MiB in total.
    const batches: OutgoingMessage[][] = [];
    let bytes = 0;
    for (const message of messages) {
      const size = messagePayloadBytes(message);
      const last = batches.at(-1);
      if (!last || last.length === SQS_BATCH || bytes + size > QueueLimits.maxBodyBytes) {
        batches.push([message]);
        bytes = size;
      } else {
        last.push(message);
        bytes += size;
      }
    }
    return mapGroups(batches, async (batch) => {
      const out = await this.#call('SendMessageBatch', signal, () =>
        this.#client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.#queueUrl,
            Entries: batch.map((message, index) => toSendEntry(message, String(index))),
          }),
          { abortSignal: signal },
        ),
      );
      const failed = out.Failed ?? [];
      if (failed.length > 0) {
        const issues = failed.map((f) => `#${f.Id}: ${f.Code} ${f.Message ?? ''}`);
        if (failed.some((f) => f.SenderFault)) throw new ValidationError('SQS refused messages', issues);
        throw new BackendError(`SQS failed to send ${failed.length} messages: ${issues.join('; ')}`, true);
      }
      const ids = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId ?? '']));
      return batch.map((_, index) => ids.get(String(index)) ?? '');
    });
  }

  async receive(options: ReceiveOptions, signal?: AbortSignal): Promise<QueueMessage[]> {
    assertReceiveOptions(options);
    throwIfAborted(signal);
    const out = await this.#call('ReceiveMessage', signal, () =>
      this.#client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#queueUrl,
          MaxNumberOfMessages: options.maxMessages,
          VisibilityTimeout: options.visibilitySeconds,
          WaitTimeSeconds: options.waitSeconds,
          MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: signal },
      ),
    );
    return (out.Messages ?? []).map(fromSqsMessage);
  }

  consume(options: ConsumeOptions): Promise<void> {
    return consumeWithSqsConsumer(this.#client, this.#queueUrl, options);
  }

  async extend(entries: readonly LeaseExtension[], signal?: AbortSignal): Promise<LeaseResult[]> {
    assertLeaseChanges(entries, 'visibilitySeconds');
    return this.#changeVisibility(
      entries.map((e) => ({ lease: e.lease, seconds: e.visibilitySeconds })),
      signal,
    );
  }

  async release(entries: readonly LeaseRelease[], signal?: AbortSignal): Promise<LeaseResult[]> {
    assertLeaseChanges(entries, 'delaySeconds');
    return this.#changeVisibility(
      entries.map((e) => ({ lease: e.lease, seconds: e.delaySeconds })),
      signal,
    );
  }

  async ack(leases: readonly string[], signal?: AbortSignal): Promise<LeaseResult[]> {
    assertLeases(leases);
    throwIfAborted(signal);
    return mapGroups(chunk(leases, SQS_BATCH), async (group) => {
      try {
        const out = await this.#call('DeleteMessageBatch', signal, () =>
          this.#client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.#queueUrl,
              Entries: group.map((lease, index) => ({ Id: String(index), ReceiptHandle: lease })),
            }),
            { abortSignal: signal },
          ),
        );
        return leaseResults(group, out.Failed);
      } catch (err) {
        return failAll(group, translateAwsError(err, this.#context('DeleteMessageBatch', signal)));
      }
    });
  }

  async deadLetter(message: QueueMessage, reason: string, signal?: AbortSignal): Promise<void> {
    const dlq = this.#deadLetterQueueUrl;
    if (!dlq) throw new ValidationError(`queue ${this.name} has no deadLetterQueueUrl`);
    assertDeadLetter(message, reason);
    throwIfAborted(signal);
    const attributes = deadLetterAttributes(
      {
        reason,
        sourceQueue: this.name,
        originalId: message.id,
        receiveCount: message.receiveCount,
        deadLetteredAt: new Date(),
      },
      message.attributes,
    );
    await this.#call('SendMessage', signal, () =>
      this.#client.send(
        new SendMessageCommand({
          QueueUrl: dlq,
          MessageBody: message.body,
          MessageAttributes: toMessageAttributes(attributes),
        }),
        { abortSignal: signal },
      ),
    );
    await this.#call('DeleteMessage', signal, () =>
      this.#client.send(
        new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: message.lease }),
        {
          abortSignal: signal,
        },
      ),
    );
  }

  async depth(signal?: AbortSignal): Promise<QueueDepth> {
    throwIfAborted(signal);
    const out = await this.#call('GetQueueAttributes', signal, () =>
      this.#client.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
        { abortSignal: signal },
      ),
    );
    const count = (name: string) => Number(out.Attributes?.[name as keyof typeof out.Attributes] ?? 0);
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
      delayed: count('ApproximateNumberOfMessagesDelayed'),
    };
  }

  async #changeVisibility(
    entries: readonly { lease: string; seconds: number }[],
    signal: AbortSignal | undefined,
  ): Promise<LeaseResult[]> {
    throwIfAborted(signal);
    return mapGroups(chunk(entries, SQS_BATCH), async (group) => {
      const leases = group.map((e) => e.lease);
      try {
        const out = await this.#call('ChangeMessageVisibilityBatch', signal, () =>
          this.#client.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.#queueUrl,
              Entries: group.map((e, index) => ({
                Id: String(index),
                ReceiptHandle: e.lease,
                VisibilityTimeout: e.seconds,
              })),
            }),
            { abortSignal: signal },
          ),
        );
        return leaseResults(leases, out.Failed);
      } catch (err) {
        return failAll(leases, translateAwsError(err, this.#context('ChangeMessageVisibilityBatch', signal)));
      }
    });
  }

  #context(operation: string, signal: AbortSignal | undefined): AwsErrorContext {
    return { operation, key: this.#queueUrl, container: this.#queueUrl, signal };
  }

  async #call<T>(operation: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateAwsError(err, this.#context(operation, signal));
    }
  }
}
