import { BackendError, ConditionFailedError, throwIfAborted } from '../errors.ts';
import type { Table, TableItem, TableKey } from '../ports/table.ts';
import { type Claim, type ClaimRecord, decodeRecord } from './claim.ts';

/**
 * A conditional write that keeps failing means other writers are busy on this key; after
 * this many re-reads we stop rather than spin.
 */
export const maxAttempts = 5;

/**
 * Writes `next()` over `claim`'s item, conditioned on the handle's version. If the version
 * moved but the stored record is still this very hold (same token and owner, not released
 * or completed), another call on the same claim wrote in between (an overlapping renew):
 * retry on that version. Anything else means the claim is lost: answers undefined.
 *
 * @example
 * ```ts
 * const written = await writeIfHeld(table, key, claim, () => ({ ...record, completed: true }));
 * if (!written) throw new LeaseLostError(claim.key);
 * ```
 */
export async function writeIfHeld(
  table: Table,
  key: TableKey,
  claim: Claim,
  next: () => ClaimRecord,
  signal?: AbortSignal,
): Promise<TableItem | undefined> {
  let version = claim.version;
  let lastConflict: unknown;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    throwIfAborted(signal);
    try {
      return await table.put(key, next(), { ifVersion: version }, signal);
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      lastConflict = err;
    }
    const current = await table.get(key, signal);
    if (!current) return undefined;
    const r = decodeRecord(current);
    if (r.token !== claim.token || r.owner !== claim.owner || r.completed) return undefined;
    version = current.version;
  }
  throw new BackendError(`claim ${key.pk}/${key.sk} kept conflicting`, true, { cause: lastConflict });
}
