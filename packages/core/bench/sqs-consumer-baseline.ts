import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';

/**
 * The baseline every core figure is compared with: a plain sqs-consumer, batchSize 10,
 * either `handleMessageBatch` (one DeleteMessageBatch per batch) or `handleMessage`
 * (one DeleteMessage per message). Resolves once `expected` messages were acknowledged.
 */
export async function drainWithSqsConsumer(options: {
  client: SQSClient;
  queueUrl: string;
  expected: number;
  mode: 'batch' | 'single';
  work: () => Promise<void>;
}): Promise<void> {
  const { client, queueUrl, expected, work } = options;
  let acked = 0;
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const count = (n: number) => {
    acked += n;
    if (acked >= expected) resolve();
  };
  const consumer =
    options.mode === 'batch'
      ? Consumer.create({
          sqs: client,
          queueUrl,
          batchSize: 10,
          waitTimeSeconds: 1,
          handleMessageBatch: async (messages: Message[]) => {
            await Promise.all(messages.map(() => work()));
            return messages;
          },
        })
      : Consumer.create({
          sqs: client,
          queueUrl,
          batchSize: 10,
          waitTimeSeconds: 1,
          handleMessage: async (message: Message) => {
            await work();
            return message;
          },
        });
  consumer.on('message_processed', () => count(1));
  consumer.on('error', (err) => console.error('sqs-consumer error', err.message));
  consumer.start();
  await done;
  consumer.stop({ abort: true });
}
