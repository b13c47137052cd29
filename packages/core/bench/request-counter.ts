import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Counts the SQS API requests a client sends, by operation (`ReceiveMessage`,
 * `DeleteMessageBatch`, ...), with an SDK middleware: the requests-per-message figure is what
 * SQS bills and throttles.
 *
 * @example
 * ```ts
 * const counter = countRequests(client);
 * await client.send(new ReceiveMessageCommand({ QueueUrl }));
 * counter.counts.get('ReceiveMessage'); // 1
 * ```
 */
export function countRequests(client: SQSClient): {
  counts: Map<string, number>;
  total(): number;
  reset(): void;
} {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    // finalizeRequest at low priority sits inside the retry middleware: every HTTP attempt counts.
    { step: 'finalizeRequest', priority: 'low', name: 'spotjobsRequestCounter' },
  );
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
}
