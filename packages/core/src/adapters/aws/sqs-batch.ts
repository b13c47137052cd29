import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { AbortedError, BackendError, type SpotjobsError } from '../../errors.ts';
import type { LeaseResult } from '../../ports/queue.ts';
import { awsErrorCodes } from './translate-aws-error.ts';

/** SQS's batch limit: 10 entries per call. */
export const SQS_BATCH = 10;
// Chunks sent at once: enough to move thousands of leases quickly, few enough not to
// monopolise the client's sockets (the runner's heartbeats share them).
const CHUNKS_IN_FLIGHT = 4;

/** Splits `items` into groups of at most `size`, in order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `fn` on every group, a few at a time, and concatenates the results in group order. */
export async function mapGroups<T, R>(groups: readonly T[], fn: (group: T) => Promise<R[]>): Promise<R[]> {
  const results: R[][] = new Array(groups.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) {
      const index = next++;
      results[index] = await fn(groups[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, groups.length) }, worker));
  return results.flat();
}

// A lease SQS no longer knows: superseded by a newer delivery, released, or deleted.
// fauxqs answers ReceiptHandleIsInvalid in batches and MessageNotInflight on single calls;
// AWS answers InvalidParameterValue "... parameter ReceiptHandle is invalid. Reason: Message
// does not exist or is not available for visibility timeout change".
const STALE_CODES = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue']);

/** Whether a failed batch entry means the lease is stale (rather than the call failing). */
export function isStaleEntry(entry: Pick<BatchResultErrorEntry, 'Code' | 'Message'>): boolean {
  const codes = awsErrorCodes({ name: entry.Code });
  if (![...codes].some((code) => STALE_CODES.has(code))) return false;
  // InvalidParameterValue also reports a visibility beyond the 12 h ceiling: the lease is fine.
  if (codes.has('InvalidParameterValue')) return !/VisibilityTimeout/i.test(entry.Message ?? '');
  return true;
}

/**
 * One `LeaseResult` per lease, in order, from a batch response whose entry ids are the
 * leases' indexes in `leases`.
 */
export function leaseResults(
  leases: readonly string[],
  failed: readonly BatchResultErrorEntry[] | undefined,
): LeaseResult[] {
  const failures = new Map((failed ?? []).map((entry) => [entry.Id, entry]));
  return leases.map((lease, index): LeaseResult => {
    const entry = failures.get(String(index));
    if (!entry) return { lease, ok: true };
    const error = new BackendError(`${entry.Code ?? 'Error'}: ${entry.Message ?? ''}`, !entry.SenderFault, {
      cause: entry,
    });
    return { lease, ok: false, reason: isStaleEntry(entry) ? 'stale' : 'failed', error };
  });
}

/** Every lease of a batch whose whole call failed: `failed`, except that an abort rejects. */
export function failAll(leases: readonly string[], error: SpotjobsError): LeaseResult[] {
  if (error instanceof AbortedError) throw error;
  return leases.map((lease) => ({ lease, ok: false, reason: 'failed', error }));
}
