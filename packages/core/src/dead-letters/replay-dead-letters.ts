import type { Queue, QueueMessage } from '../ports/queue.ts';
import { DeadLetterAttributes } from '../ports/queue.ts';

/** One message found on a dead-letter queue, as an operator reads it. */
export interface DeadLetterEntry {
  /** The id on the dead-letter queue. */
  readonly id: string;
  /** The id it had on its source queue (absent when SQS's own redrive moved it). */
  readonly originalId: string | undefined;
  /** Why it was dead-lettered (absent when SQS's own redrive moved it: no reason recorded). */
  readonly reason: string | undefined;
  readonly sourceQueue: string | undefined;
  readonly deadLetteredAt: string | undefined;
  readonly body: string;
  /** Whether this walk sent it back (false in a dry run and for messages not selected). */
  readonly replayed: boolean;
}

export interface ReplayDeadLettersOptions {
  readonly deadLetters: Queue;
  /** Where selected messages go back to: the queue whose workers will run them again. */
  readonly target: Queue;
  /** Which messages to replay; every one without it. */
  readonly select?: (entry: Omit<DeadLetterEntry, 'replayed'>) => boolean;
  /** Replay at most this many (the rest stay on the dead-letter queue). */
  readonly limit?: number;
  /** Only look: every message stays where it is. */
  readonly dryRun?: boolean;
  /**
   * How long a message seen by this walk stays hidden from it, so each is seen once: longer
   * than the walk takes. Messages not replayed are made visible again when the walk ends.
   */
  readonly holdSeconds?: number;
  readonly signal?: AbortSignal;
}

export interface ReplayReport {
  readonly entries: readonly DeadLetterEntry[];
  readonly replayed: number;
}

/**
 * Walks a dead-letter queue once and sends the selected messages back to `target`, with their
 * original body and own attributes (the `spotjobs.*` dead-letter ones dropped). A message is
 * deleted from the dead-letter queue only after its copy was sent, so a walk cut short never
 * loses one; at worst a message is replayed twice, which the runner's claims absorb. Fix
 * what dead-lettered a message before replaying it: a poison message comes straight back.
 *
 * @example
 * ```ts
 * const report = await replayDeadLetters({
 *   deadLetters: store.queue('builds-dlq'),
 *   target: store.queue('builds'),
 *   select: (entry) => /^machine fault/.test(entry.reason ?? ''),
 * });
 * console.log(`${report.replayed} of ${report.entries.length} replayed`);
 * ```
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<ReplayReport> {
  const { deadLetters, target, signal } = options;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const holdSeconds = options.holdSeconds ?? 300;
  const entries: DeadLetterEntry[] = [];
  // Messages this walk leaves where they are, by id: a hold that ran out during a long walk
  // brings one back with a new lease, and only the newest lease can put it back.
  const kept = new Map<string, string>();
  const seen = new Set<string>();
  let replayed = 0;
  try {
    for (;;) {
      // A short wait, not 0: an SQS short poll samples a few servers and may miss messages.
      const batch = await deadLetters.receive(
        { maxMessages: 10, visibilitySeconds: holdSeconds, waitSeconds: 1 },
        signal,
      );
      for (const message of batch)
        if (seen.has(message.id) && kept.has(message.id)) kept.set(message.id, message.lease);
      // Only messages this walk already saw come back (their hold ran out): it has seen them all.
      if (batch.every((message) => seen.has(message.id))) break;
      for (const message of batch) {
        if (seen.has(message.id)) continue;
        seen.add(message.id);
        const entry = describe(message);
        const wanted = !options.dryRun && replayed < limit && (options.select?.(entry) ?? true);
        if (wanted) {
          await target.send([{ body: message.body, attributes: ownAttributes(message) }], signal);
          await deadLetters.ack([message.lease], signal);
          replayed++;
        } else {
          kept.set(message.id, message.lease);
        }
        entries.push({ ...entry, replayed: wanted });
      }
    }
  } finally {
    // Put back what stays, even when the walk failed half-way (never with the aborted signal).
    if (kept.size > 0)
      await deadLetters.release([...kept.values()].map((lease) => ({ lease, delaySeconds: 0 })));
  }
  return { entries, replayed };
}

function describe(message: QueueMessage): Omit<DeadLetterEntry, 'replayed'> {
  const a = message.attributes;
  return {
    id: message.id,
    originalId: a[DeadLetterAttributes.originalId],
    reason: a[DeadLetterAttributes.reason],
    sourceQueue: a[DeadLetterAttributes.sourceQueue],
    deadLetteredAt: a[DeadLetterAttributes.deadLetteredAt],
    body: message.body,
  };
}

const deadLetterNames = new Set<string>(Object.values(DeadLetterAttributes));

function ownAttributes(message: QueueMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(message.attributes).filter(([name]) => !deadLetterNames.has(name)),
  );
}
