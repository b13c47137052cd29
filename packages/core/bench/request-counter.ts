import type { SQSClient } from '@aws-sdk/client-sqs';

/** What `countRequests` has seen so far. */
export interface RequestCounts {
  /** HTTP attempts by operation (`ReceiveMessage`, `DeleteMessageBatch`, ...). */
  readonly counts: Map<string, number>;
  /** Messages returned by ReceiveMessage answers. */
  readonly received: () => number;
  /** Entries carried by batch calls (`DeleteMessageBatch`, `ChangeMessageVisibilityBatch`...), by operation. */
  readonly entries: Map<string, number>;
  total(): number;
  reset(): void;
}

/**
 * Counts the SQS API requests a client sends, by operation, with an SDK middleware: the
 * requests-per-message figure is what SQS bills and throttles. It also counts messages per
 * receive and entries per batch call, which explain a high figure (small batches).
 *
 * @example
 * ```ts
 * const counter = countRequests(client);
 * await client.send(new ReceiveMessageCommand({ QueueUrl }));
 * counter.counts.get('ReceiveMessage'); // 1
 * ```
 */
export function countRequests(client: SQSClient): RequestCounts {
  const counts = new Map<string, number>();
  const entries = new Map<string, number>();
  let received = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const batch = (args.input as { Entries?: unknown[] }).Entries;
      if (Array.isArray(batch)) entries.set(name, (entries.get(name) ?? 0) + batch.length);
      const result = await next(args);
      if (name === 'ReceiveMessage')
        received += (result.output as { Messages?: unknown[] }).Messages?.length ?? 0;
      return result;
    },
    // finalizeRequest at low priority sits inside the retry middleware: every HTTP attempt counts.
    { step: 'finalizeRequest', priority: 'low', name: 'spotjobsRequestCounter' },
  );
  return {
    counts,
    entries,
    received: () => received,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => {
      counts.clear();
      entries.clear();
      received = 0;
    },
  };
}
