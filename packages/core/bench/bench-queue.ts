import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type EnsuredSqsQueue, ensureSqsQueue } from '../src/adapters/aws/index.ts';

/** SendMessageBatch calls in flight while filling: fauxqs takes ~12 000 msg/s this way. */
const SENDS_IN_FLIGHT = 8;
/** A ~230-byte JSON body, the size the emulator reference measured with. */
const PADDING = 'x'.repeat(200);

/**
 * Creates a queue (and its dead-letter queue) under a fresh unique name, so no scenario,
 * round or side ever sees another's messages (a long poll cancelled at the end of a drain can
 * still take a message server-side).
 *
 * @example
 * ```ts
 * const urls = await createBenchQueue(client, 'noop-core');
 * await fillQueue(client, urls.queueUrl, 5_000);
 * await deleteBenchQueue(client, urls);
 * ```
 */
export function createBenchQueue(client: SQSClient, label: string): Promise<EnsuredSqsQueue> {
  return ensureSqsQueue(client, `bench-${label}-${randomUUID().slice(0, 8)}`, { visibilitySeconds: 30 });
}

/** Sends `count` JSON messages `{ n, pad }` with SendMessageBatch, several calls in flight. */
export async function fillQueue(client: SQSClient, queueUrl: string, count: number): Promise<void> {
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < count) {
      const first = next;
      next = Math.min(count, next + 10);
      const entries = Array.from({ length: next - first }, (_, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify({ n: first + i, pad: PADDING }),
      }));
      const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if ((out.Failed ?? []).length > 0) throw new Error(`fill failed: ${JSON.stringify(out.Failed)}`);
    }
  };
  await Promise.all(Array.from({ length: SENDS_IN_FLIGHT }, sender));
}

/** Deletes a bench queue and its DLQ (fauxqs keeps everything in memory). */
export async function deleteBenchQueue(client: SQSClient, urls: EnsuredSqsQueue): Promise<void> {
  await Promise.all(
    [urls.queueUrl, urls.deadLetterQueueUrl].map((QueueUrl) =>
      client.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {}),
    ),
  );
}
