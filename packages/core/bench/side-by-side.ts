import { createBenchClient } from './bench-client.ts';
import { createBenchQueue, deleteBenchQueue, fillQueue } from './bench-queue.ts';
import type { DrainOptions, DrainResult } from './drain-probe.ts';

/** One contender of a throughput scenario. */
export interface Side {
  /** Short name, used in queue names and the report (`core`, `sqs-consumer`...). */
  readonly name: string;
  drain(options: DrainOptions): Promise<DrainResult>;
}

export interface SideBySideOptions {
  /** Scenario label, part of every queue name. */
  readonly label: string;
  readonly endpoint: string;
  readonly sides: readonly Side[];
  /** Messages per drain. */
  readonly messages: number;
  /** Messages per side in the unrecorded warm-up round (JIT, sockets). */
  readonly warmupMessages: number;
  readonly rounds: number;
  /** The handler body every side runs per message. */
  readonly work: () => Promise<void>;
  /** Progress, one call per recorded drain. */
  readonly onDrain?: (side: string, round: number, result: DrainResult) => void;
}

/**
 * Runs every side on the same emulators, round after round: a warm-up round first, then
 * `rounds` recorded ones, rotating which side goes first so that neither always drains
 * right after a fill (or after the other's garbage). Every drain gets its own queue, filled
 * beforehand by a separate client, and a fresh client with the shared settings.
 *
 * @example
 * ```ts
 * const results = await runSideBySide({ label: 'noop', endpoint, sides, messages: 5_000,
 *   warmupMessages: 1_000, rounds: 3, work: async () => {} });
 * results.get('core'); // DrainResult[] (one per round)
 * ```
 */
export async function runSideBySide(options: SideBySideOptions): Promise<Map<string, DrainResult[]>> {
  const { sides, rounds } = options;
  const results = new Map<string, DrainResult[]>(sides.map((side) => [side.name, []]));
  const filler = createBenchClient(options.endpoint);
  try {
    for (let round = -1; round < rounds; round++) {
      const warmup = round < 0;
      const shift = warmup ? 0 : round % sides.length;
      const order = [...sides.slice(shift), ...sides.slice(0, shift)];
      for (const side of order) {
        const messages = warmup ? options.warmupMessages : options.messages;
        const result = await drainOnce(filler, options, side, messages, warmup ? 'w' : `r${round}`);
        if (warmup) continue;
        results.get(side.name)?.push(result);
        options.onDrain?.(side.name, round, result);
      }
    }
  } finally {
    filler.destroy();
  }
  return results;
}

async function drainOnce(
  filler: ReturnType<typeof createBenchClient>,
  options: SideBySideOptions,
  side: Side,
  messages: number,
  tag: string,
): Promise<DrainResult> {
  const urls = await createBenchQueue(filler, `${options.label}-${side.name}-${tag}`);
  const client = createBenchClient(options.endpoint);
  try {
    await fillQueue(filler, urls.queueUrl, messages);
    return await side.drain({ client, ...urls, expected: messages, work: options.work });
  } finally {
    client.destroy();
    await deleteBenchQueue(filler, urls);
  }
}
