import type { SQSClient } from '@aws-sdk/client-sqs';
import { countRequests } from './request-counter.ts';

/** What one side did while draining a pre-filled queue. */
export interface DrainResult {
  /** From start (consumer/runner started) to the last acknowledgement, ms. */
  readonly elapsedMs: number;
  /** Messages per second over `elapsedMs`. */
  readonly throughput: number;
  /** SQS HTTP attempts sent by the side's client until the last acknowledgement. */
  readonly requests: number;
  readonly requestsPerMessage: number;
  /** HTTP attempts by operation (`ReceiveMessage`, `DeleteMessageBatch`, ...). */
  readonly byOperation: Readonly<Record<string, number>>;
  /** Messages per ReceiveMessage answer, on average (10 is SQS's maximum). */
  readonly messagesPerReceive: number;
  /** Entries per DeleteMessageBatch call, on average (0 when the side deletes one by one). */
  readonly entriesPerDeleteBatch: number;
  /** This process's CPU time (user + system) over `elapsedMs`, in % of one core. */
  readonly cpuPct: number;
}

/** Everything a side needs to drain a queue; `work` is the handler's body for one message. */
export interface DrainOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly expected: number;
  readonly work: () => Promise<void>;
}

/** A drain that has not finished within this is reported as a failure instead of hanging the bench. */
const DRAIN_TIMEOUT_MS = 180_000;

/**
 * Times a drain and counts its SQS requests, the same way for every side: start it right
 * before the consumer or runner starts, call `acked()` on every confirmed acknowledgement;
 * `done` resolves at the `expected`-th one (requests sent afterwards, by the shutdown, do not
 * count: the figure is the cost at saturation).
 *
 * @example
 * ```ts
 * const probe = startDrainProbe(client, 5_000);
 * consumer.on('message_processed', () => probe.acked());
 * consumer.start();
 * const result = await probe.done;
 * ```
 */
export function startDrainProbe(
  client: SQSClient,
  expected: number,
): { readonly done: Promise<DrainResult>; acked(count?: number): void; fail(error: Error): void } {
  const counter = countRequests(client);
  const { promise, resolve, reject } = Promise.withResolvers<DrainResult>();
  const timeout = setTimeout(
    () => reject(new Error(`drain stalled: not all ${expected} messages acknowledged`)),
    DRAIN_TIMEOUT_MS,
  );
  let acked = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  return {
    done: promise,
    acked(count = 1) {
      acked += count;
      if (acked < expected || acked - count >= expected) return;
      const elapsedMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      clearTimeout(timeout);
      const requests = counter.total();
      const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
      resolve({
        elapsedMs,
        throughput: (expected / elapsedMs) * 1000,
        requests,
        requestsPerMessage: requests / expected,
        byOperation: Object.fromEntries(counter.counts),
        messagesPerReceive: ratio(counter.received(), counter.counts.get('ReceiveMessage') ?? 0),
        entriesPerDeleteBatch: ratio(
          counter.entries.get('DeleteMessageBatch') ?? 0,
          counter.counts.get('DeleteMessageBatch') ?? 0,
        ),
        cpuPct: ((used.user + used.system) / 1000 / elapsedMs) * 100,
      });
    },
    fail(error) {
      clearTimeout(timeout);
      reject(error);
    },
  };
}
