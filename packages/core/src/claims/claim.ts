import { ValidationError } from '../errors.ts';
import type { JsonObject, TableItem } from '../ports/table.ts';
import { TableLimits } from '../ports/table.ts';

/**
 * A claim this worker holds: the handle passed back to `renew`, `release` and `complete`.
 * Handles are immutable; `renew` answers a new one. Write `token` next to anything the
 * holder produces, so a reader can tell a stale writer's output from the current one.
 *
 * @example
 * ```ts
 * const claim = await claims.claim('build#abc', workerId, { ttlMs: 60_000 });
 * if (claim) await blobs.put(`out/abc.${claim.token}`, body);
 * ```
 */
export interface Claim {
  readonly key: string;
  readonly owner: string;
  /** Fencing token: strictly greater than every token issued before for this key. */
  readonly token: number;
  /** Wall-clock epoch ms after which another owner may take the claim over. */
  readonly expiresAt: number;
  /** The TTL this handle was last granted; `renew` reuses it by default. */
  readonly ttlMs: number;
  /** The stored item's version this handle last wrote (the precondition of its next write). */
  readonly version: number;
}

/**
 * What `ClaimStore.get` answers: the stored state of one key.
 *
 * @example
 * ```ts
 * const state = await claims.get('build#abc');
 * if (state?.completed) return state.result;
 * ```
 */
export interface ClaimState {
  readonly key: string;
  /** The holder, or the owner that completed it; undefined once released. */
  readonly owner: string | undefined;
  readonly token: number;
  readonly expiresAt: number;
  /** True once `complete` succeeded: the key can never be claimed again. */
  readonly completed: boolean;
  readonly result: JsonObject | undefined;
  /** An owner holds it now by this store's clock: not released, not expired, not completed. */
  readonly held: boolean;
  readonly version: number;
}

/**
 * The stored record. Items are never deleted: the Table's version is the fencing token's
 * source, and a deleted item would restart it at 1, under tokens already handed out.
 */
export type ClaimRecord = {
  owner: string | null;
  token: number;
  expiresAt: number;
  completed: boolean;
  result: JsonObject | null;
};

export function decodeRecord(item: TableItem): ClaimRecord {
  const d = item.data;
  const ok =
    (typeof d.owner === 'string' || d.owner === null) &&
    typeof d.token === 'number' &&
    typeof d.expiresAt === 'number' &&
    typeof d.completed === 'boolean' &&
    (d.result === null || (typeof d.result === 'object' && !Array.isArray(d.result)));
  if (!ok) throw new ValidationError(`item ${item.pk}/${item.sk} is not a claim`);
  return d as ClaimRecord;
}

export function toState(key: string, item: TableItem, now: number): ClaimState {
  const r = decodeRecord(item);
  return {
    key,
    owner: r.owner ?? undefined,
    token: r.token,
    expiresAt: r.expiresAt,
    completed: r.completed,
    result: r.result ?? undefined,
    held: r.owner !== null && !r.completed && r.expiresAt > now,
    version: item.version,
  };
}

export function validateClaimArgs(key: string, owner: string, ttlMs: number): void {
  const issues: string[] = [];
  if (key.length === 0) issues.push('key must not be empty');
  if (Buffer.byteLength(key) > TableLimits.maxKeyBytes)
    issues.push(`key exceeds ${TableLimits.maxKeyBytes} bytes`);
  if (owner.length === 0) issues.push('owner must not be empty');
  issues.push(...ttlProblems(ttlMs));
  if (issues.length > 0) throw new ValidationError('invalid claim', issues);
}

export function ttlProblems(ttlMs: number): string[] {
  return Number.isSafeInteger(ttlMs) && ttlMs > 0 ? [] : [`ttlMs must be a positive integer, got ${ttlMs}`];
}
