import { ConditionFailedError, LeaseLostError, throwIfAborted, ValidationError } from '../errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { JsonObject, Table, TableItem, TableKey } from '../ports/table.ts';
import { systemClock } from '../time/system-clock.ts';
import {
  type Claim,
  type ClaimRecord,
  type ClaimState,
  decodeRecord,
  toState,
  ttlProblems,
  validateClaimArgs,
} from './claim.ts';
import { maxAttempts, writeIfHeld } from './claim-writes.ts';

export interface ClaimStoreOptions {
  readonly table: Table;
  /** Wall time for expiry; default the system clock. */
  readonly clock?: Clock;
  /** The Table partition holding this store's claims (one item per key); default `claims`. */
  readonly partition?: string;
}

/**
 * `ClaimStore`: one owner at a time per key, with fencing tokens, built only on the `Table`
 * port's conditional writes (`ifAbsent` / `ifVersion`), so it behaves the same on every
 * adapter. Every write is conditioned on the version just read: a read-then-write race
 * loses its condition instead of overwriting.
 *
 * ```
 *  A: claim (token 7, expires t+ttl)  ....A stalls (GC, hibernation)......  A: complete → LeaseLostError
 *  B:                     claim → undefined     t+ttl: claim → token 9      B: complete ✓
 * ```
 *
 * Fencing: a claim's token is the Table version of the write that took it, so it strictly
 * increases on every change of hands (renewals bump the version, so tokens may skip). Never
 * delete claim items: a new item would restart the versions at 1.
 *
 * Clocks: `expiresAt` is written with the claimer's wall clock and compared with the taker's.
 * If the taker's clock runs `d` ms ahead, it takes over `d` ms early. That costs duplicate
 * work, never a lost or double write: `complete` and `renew` are conditioned on the version,
 * not on time. Keep TTLs far above the expected skew (NTP-synced hosts: milliseconds) and
 * renew at a fraction of the TTL. A host resumed from hibernation sees its claims expired;
 * its first `renew` tells it whether someone took over.
 *
 * An owner that claims a key it already holds gets a fresh token, and its older handle is
 * fenced out; owners that must not re-enter should be unique per attempt.
 *
 * @example
 * ```ts
 * const claims = new ClaimStore({ table: localStore.table('claims') });
 * const claim = await claims.claim(`build#${hash}`, workerId, { ttlMs: 60_000 }, signal);
 * if (!claim) return (await claims.get(`build#${hash}`, signal))?.result; // someone else builds
 * const artifact = await build(signal);
 * await claims.complete(claim, { artifact }, signal); // LeaseLostError if a taker moved on
 * ```
 */
export class ClaimStore {
  readonly #table: Table;
  readonly #clock: Clock;
  readonly #partition: string;

  constructor(options: ClaimStoreOptions) {
    this.#table = options.table;
    this.#clock = options.clock ?? systemClock;
    this.#partition = options.partition ?? 'claims';
    if (this.#partition.length === 0) throw new ValidationError('partition must not be empty');
  }

  /**
   * Takes `key` for `owner` for `ttlMs`. Answers undefined while another owner holds a live
   * claim, and for a completed key. Free, released and expired keys are taken.
   */
  async claim(
    key: string,
    owner: string,
    options: { readonly ttlMs: number },
    signal?: AbortSignal,
  ): Promise<Claim | undefined> {
    validateClaimArgs(key, owner, options.ttlMs);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      throwIfAborted(signal);
      const current = await this.#table.get(this.#key(key), signal);
      const now = this.#clock.now();
      if (current) {
        const r = decodeRecord(current);
        const free = r.owner === null || r.owner === owner || r.expiresAt <= now;
        if (r.completed || !free) return undefined;
      }
      // Versions start at 1 and grow by 1 per write (Table contract), so this write's
      // version, known before writing it, is the new token.
      const token = current ? current.version + 1 : 1;
      const record: ClaimRecord = {
        owner,
        token,
        expiresAt: now + options.ttlMs,
        completed: false,
        result: null,
      };
      try {
        const condition = current ? { ifVersion: current.version } : ({ ifAbsent: true } as const);
        const written = await this.#table.put(this.#key(key), record, condition, signal);
        return this.#handle(key, written, options.ttlMs);
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        // Someone else wrote between our read and write: read again and decide anew.
      }
    }
    return undefined;
  }

  /** Extends the claim to `ttlMs` from now (default: its last TTL). Throws `LeaseLostError` if it moved on. */
  async renew(claim: Claim, options: { readonly ttlMs?: number } = {}, signal?: AbortSignal): Promise<Claim> {
    const ttlMs = options.ttlMs ?? claim.ttlMs;
    const issues = ttlProblems(ttlMs);
    if (issues.length > 0) throw new ValidationError('invalid renew', issues);
    const written = await writeIfHeld(
      this.#table,
      this.#key(claim.key),
      claim,
      () => ({ ...this.#held(claim), expiresAt: this.#clock.now() + ttlMs }),
      signal,
    );
    if (!written) throw new LeaseLostError(this.#describe(claim.key));
    return this.#handle(claim.key, written, ttlMs);
  }

  /** Gives the claim up so another owner can take it at once. A lost claim is a no-op. */
  async release(claim: Claim, signal?: AbortSignal): Promise<void> {
    await writeIfHeld(
      this.#table,
      this.#key(claim.key),
      claim,
      () => ({ ...this.#held(claim), owner: null, expiresAt: this.#clock.now() }),
      signal,
    );
  }

  /**
   * Marks the key done with `result`, only if this claim still holds it, so a late worker
   * cannot overwrite a newer owner's outcome. Throws `LeaseLostError` otherwise.
   */
  async complete(claim: Claim, result?: JsonObject, signal?: AbortSignal): Promise<ClaimState> {
    const written = await writeIfHeld(
      this.#table,
      this.#key(claim.key),
      claim,
      () => ({ ...this.#held(claim), completed: true, result: result ?? null }),
      signal,
    );
    if (!written) throw new LeaseLostError(this.#describe(claim.key));
    return toState(claim.key, written, this.#clock.now());
  }

  /** The stored state of `key`, or undefined if it was never claimed. */
  async get(key: string, signal?: AbortSignal): Promise<ClaimState | undefined> {
    throwIfAborted(signal);
    const item = await this.#table.get(this.#key(key), signal);
    return item && toState(key, item, this.#clock.now());
  }

  #held(claim: Claim): ClaimRecord {
    return {
      owner: claim.owner,
      token: claim.token,
      expiresAt: claim.expiresAt,
      completed: false,
      result: null,
    };
  }

  #handle(key: string, item: TableItem, ttlMs: number): Claim {
    const r = decodeRecord(item);
    return {
      key,
      owner: r.owner ?? '',
      token: r.token,
      expiresAt: r.expiresAt,
      ttlMs,
      version: item.version,
    };
  }

  #key(key: string): TableKey {
    return { pk: this.#partition, sk: key };
  }

  #describe(key: string): string {
    return `${this.#partition}/${key}`;
  }
}
