import type { Message } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { type DrainOptions, type DrainResult, startDrainProbe } from './drain-probe.ts';

/**
 * The baseline every core figure is compared with: one plain sqs-consumer, batchSize 10,
 * either `handleMessageBatch` (one DeleteMessageBatch per batch) or `handleMessage` (one
 * DeleteMessage per message). Resolves once `expected` messages were acknowledged (sqs-consumer
 * emits `message_processed` after the delete succeeded).
 *
 * @example
 * ```ts
 * const result = await drainWithSqsConsumer({ client, queueUrl, deadLetterQueueUrl, expected: 5_000, work: async () => {} }, 'batch');
 * result.throughput; // messages per second
 * ```
 */
export async function drainWithSqsConsumer(
  options: DrainOptions,
  mode: 'batch' | 'single',
): Promise<DrainResult> {
  const { client, queueUrl, work } = options;
  const common = {
    // Always our client: fauxqs queue URLs do not resolve (emulators.md, G1).
    sqs: client,
    queueUrl,
    batchSize: 10,
    waitTimeSeconds: 1,
  };
  const consumer =
    mode === 'batch'
      ? Consumer.create({
          ...common,
          handleMessageBatch: async (messages: Message[]) => {
            await Promise.all(messages.map(() => work()));
            return messages;
          },
        })
      : Consumer.create({
          ...common,
          handleMessage: async (message: Message) => {
            await work();
            return message;
          },
        });
  const probe = startDrainProbe(client, options.expected);
  consumer.on('message_processed', () => probe.acked());
  consumer.on('error', (err) => console.error(`sqs-consumer error: ${err.message}`));
  consumer.start();
  try {
    return await probe.done;
  } finally {
    consumer.stop({ abort: true });
  }
}
