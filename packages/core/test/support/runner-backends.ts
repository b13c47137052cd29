import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { onTestFinished } from 'vitest';
import { ensureSqsQueue, SqsQueue } from '../../src/adapters/aws/index.ts';
import type { Queue, QueueMessage } from '../../src/ports/queue.ts';
import { awsTestClientConfig } from '../../src/testing/emulators.ts';
import { tempStore } from '../fixtures/local-temp-store.ts';

/** A fresh queue on one backend, plus what tests need to look behind the runner's back. */
export interface RunnerBackendQueue {
  readonly queue: Queue;
  /** Everything in the dead-letter queue now (received and deleted). */
  deadLetters(): Promise<QueueMessage[]>;
  /** API calls by command name (SQS only; empty for the local queue). */
  readonly calls: Map<string, number>;
  /** How to reach the same queue from a child process. */
  readonly env: Record<string, string>;
}

export interface RunnerBackend {
  readonly name: 'sqs' | 'local';
  create(options: { visibilitySeconds: number }): Promise<RunnerBackendQueue>;
}

async function drain(queue: Queue): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  for (;;) {
    const batch = await queue.receive({ maxMessages: 10, visibilitySeconds: 60, waitSeconds: 1 });
    if (batch.length === 0) return got;
    got.push(...batch);
    await queue.ack(batch.map((m) => m.lease));
  }
}

/** SQS on fauxqs, with a client per queue whose calls are counted by an SDK middleware. */
export function sqsBackend(endpoint: string): RunnerBackend {
  return {
    name: 'sqs',
    async create({ visibilitySeconds }) {
      const calls = new Map<string, number>();
      const client = new SQSClient({ ...awsTestClientConfig, endpoint });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          // The SDK names commands `DeleteMessageBatchCommand`; keep the API's name.
          const name = String(context.commandName).replace(/Command$/, '');
          calls.set(name, (calls.get(name) ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize', name: 'countCommands' },
      );
      const name = `runner-${randomUUID().slice(0, 8)}`;
      const urls = await ensureSqsQueue(client, name, { visibilitySeconds });
      onTestFinished(async () => {
        await Promise.all(
          [urls.queueUrl, urls.deadLetterQueueUrl].map((QueueUrl) =>
            client.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {}),
          ),
        );
        client.destroy();
      });
      const dlq = new SqsQueue({ client, queueUrl: urls.deadLetterQueueUrl });
      return {
        queue: new SqsQueue({ client, ...urls }),
        deadLetters: () => drain(dlq),
        calls,
        env: {
          RUNNER_BACKEND: 'sqs',
          RUNNER_SQS_ENDPOINT: endpoint,
          RUNNER_QUEUE_URL: urls.queueUrl,
          RUNNER_DLQ_URL: urls.deadLetterQueueUrl,
        },
      };
    },
  };
}

/** The local SQLite queue in a temp data dir. */
export const localBackend: RunnerBackend = {
  name: 'local',
  async create() {
    const store = await tempStore();
    const name = `runner-${randomUUID().slice(0, 8)}`;
    const queue = store.queue(name);
    return {
      queue,
      deadLetters: () => drain(store.queue(queue.deadLetterQueue)),
      calls: new Map(),
      env: { RUNNER_BACKEND: 'local', RUNNER_DATA_DIR: store.dataDir, RUNNER_QUEUE_NAME: name },
    };
  },
};
