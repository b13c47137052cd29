import { SqsQueue } from '../src/adapters/aws/index.ts';
import { Runner } from '../src/runner/runner.ts';
import { benchJobSchema } from './bench-job.ts';
import { type DrainOptions, type DrainResult, startDrainProbe } from './drain-probe.ts';

/**
 * The core side: a real `Runner` on an `SqsQueue` with `concurrency` slots, acking through its
 * batched DeleteMessageBatch. Resolves once `expected` jobs were acked (`job:succeeded` follows
 * the ack's answer), then stops the runner.
 *
 * @example
 * ```ts
 * const result = await drainWithRunner({ client, queueUrl, deadLetterQueueUrl, expected: 5_000, work: async () => {} }, 64);
 * ```
 */
export async function drainWithRunner(options: DrainOptions, concurrency: number): Promise<DrainResult> {
  const { client, queueUrl, deadLetterQueueUrl, work } = options;
  const runner = await Runner.create({
    queue: new SqsQueue({ client, queueUrl, deadLetterQueueUrl }),
    concurrency,
    // As the baseline's waitTimeSeconds; at saturation no poll waits anyway.
    pollWaitSeconds: 1,
    job: { schema: benchJobSchema, handle: () => work() },
  });
  const probe = startDrainProbe(client, options.expected);
  runner.on('job:succeeded', () => probe.acked());
  runner.on('error', (err) => console.error(`runner error: ${err.message}`));
  runner.on('job:dead-lettered', (job) => probe.fail(new Error(`job dead-lettered: ${job.reason}`)));
  const running = runner.run();
  running.catch((error: unknown) => probe.fail(error as Error));
  try {
    return await probe.done;
  } finally {
    await runner.stop({ graceMs: 0 });
  }
}
