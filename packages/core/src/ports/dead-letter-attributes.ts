import { DeadLetterAttributes, QueueLimits } from './queue.ts';
import { attributeText } from './queue-validation.ts';

/** Dead-letter reasons are capped: attributes count towards the 1 MiB message limit. */
const MAX_REASON_CHARS = 4096;

/** Where a dead-lettered message came from and why; see `DeadLetterAttributes`. */
export interface DeadLetterOrigin {
  readonly reason: string;
  readonly sourceQueue: string;
  readonly originalId: string;
  readonly receiveCount: number;
  readonly deadLetteredAt: Date;
}

/**
 * The attributes of a message's copy on the dead-letter queue: the five `DeadLetterAttributes`
 * first, then as many of the message's own attributes as fit in SQS's 10. The reason is made
 * fit for an attribute value (see `attributeText`), so any reason can be recorded.
 *
 * @example
 * ```ts
 * const attributes = deadLetterAttributes(
 *   { reason, sourceQueue: 'jobs', originalId: msg.id, receiveCount: msg.receiveCount, deadLetteredAt: new Date() },
 *   msg.attributes,
 * );
 * ```
 */
export function deadLetterAttributes(
  origin: DeadLetterOrigin,
  own: Readonly<Record<string, string>>,
): Record<string, string> {
  const ours: Record<string, string> = {
    [DeadLetterAttributes.reason]: attributeText(origin.reason, MAX_REASON_CHARS),
    [DeadLetterAttributes.sourceQueue]: origin.sourceQueue,
    [DeadLetterAttributes.originalId]: origin.originalId,
    [DeadLetterAttributes.receiveCount]: String(origin.receiveCount),
    [DeadLetterAttributes.deadLetteredAt]: origin.deadLetteredAt.toISOString(),
  };
  const kept = Object.entries(own)
    .filter(([name]) => !(name in ours))
    .slice(0, QueueLimits.maxAttributes - Object.keys(ours).length);
  return { ...Object.fromEntries(kept), ...ours };
}
