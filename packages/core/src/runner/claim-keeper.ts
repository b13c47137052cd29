import type { Claim, ClaimState } from '../claims/claim.ts';
import type { ClaimStore } from '../claims/claim-store.ts';
import { isAbortError, LeaseLostError } from '../errors.ts';
import type { Clock, Timer } from '../ports/clock.ts';
import { QueueLimits } from '../ports/queue.ts';
import type { JsonObject } from '../ports/table.ts';
import { type OwnershipCheck, OwnershipDoubt } from './ownership-doubt.ts';

/** What taking a job's claim came to. */
export type ClaimAttempt =
  | { readonly kind: 'held'; readonly claim: Claim }
  /** The key was completed already: this delivery is a duplicate of finished work. */
  | { readonly kind: 'completed'; readonly state: ClaimState }
  /** Another live owner holds it: try again once its claim could have expired. */
  | { readonly kind: 'busy'; readonly delaySeconds: number };

export interface ClaimKeeperOptions {
  readonly clock: Clock;
  /** How often to look for claims to renew (the heartbeat interval). */
  readonly intervalMs: number;
  /** Cancels renewals in flight (final shutdown). */
  readonly signal: AbortSignal;
  /** The claim tracked as `id` passed to another owner (or was completed by one). */
  readonly onLost: (id: string, error: LeaseLostError) => void;
  /** A renewal failed for another reason; the next tick tries again. */
  readonly onError?: (error: Error) => void;
}

interface HeldClaim {
  readonly id: string;
  readonly store: ClaimStore;
  /** The TTL the job asked for; a hold may grant more for a while. */
  readonly ttlMs: number;
  claim: Claim;
  renewedMono: number;
  readonly doubt: OwnershipDoubt;
  renewing: Promise<void> | undefined;
}

/** How many times a claim is tried when it is freed between our claim and our read. */
const claimTries = 3;

/**
 * Keeps the claims of running jobs (`JobDefinition.claim`) alive next to their leases:
 * takes a job's claim before its handler runs, renews it when half its TTL is gone (one
 * Table write per claim: the port has no batch write), re-validates every claim after a
 * resume, and gates writes the way `LeaseKeeper.confirm` does. A claim found taken over is
 * reported through `onLost` and its job is abandoned: the fencing token moved on, so
 * whatever the job would write now belongs to someone else.
 *
 * Time left is `expiresAt - now` (wall clock, as the store wrote it) and the TTL minus the
 * monotonic time since the renewal, whichever is smaller: a hibernated host sees its claims
 * expired on waking, and its first renewal tells whether someone took over.
 *
 * @example
 * ```ts
 * const keeper = new ClaimKeeper({ clock, intervalMs: 5_000, signal, onLost: (id) => abortJob(id) });
 * keeper.start();
 * const got = await keeper.acquire(id, store, `build#${hash}`, owner, 30_000, signal);
 * if (got.kind === 'held' && (await keeper.confirm(id))) await keeper.complete(id, { artifact }, signal);
 * ```
 */
export class ClaimKeeper {
  readonly #options: ClaimKeeperOptions;
  readonly #held = new Map<string, HeldClaim>();
  #timer: Timer | undefined;
  #running = false;
  #seq = 0;

  constructor(options: ClaimKeeperOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#held.size;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#arm();
  }

  /** Stops renewing; waits for renewals in flight; gates still waiting answer false. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    await Promise.all([...this.#held.values()].map((h) => h.renewing));
    for (const held of this.#held.values()) held.doubt.fail();
  }

  /**
   * Takes `key` for `owner` and, when held, tracks it as `id`. A completed key answers
   * `completed`; a live foreign claim answers `busy` with the seconds until it could expire.
   */
  async acquire(
    id: string,
    store: ClaimStore,
    key: string,
    owner: string,
    ttlMs: number,
    signal: AbortSignal,
  ): Promise<ClaimAttempt> {
    const { clock } = this.#options;
    for (let i = 0; i < claimTries; i++) {
      const requestedMono = clock.monotonic();
      const claim = await store.claim(key, owner, { ttlMs }, signal);
      if (claim) {
        this.#held.set(id, {
          id,
          store,
          ttlMs,
          claim,
          renewedMono: requestedMono,
          doubt: new OwnershipDoubt(),
          renewing: undefined,
        });
        return { kind: 'held', claim };
      }
      const state = await store.get(key, signal);
      if (state?.completed) return { kind: 'completed', state };
      if (state?.held) return { kind: 'busy', delaySeconds: delayUntil(state.expiresAt - clock.now()) };
      // Released or expired between our claim and our read: try again.
    }
    return { kind: 'busy', delaySeconds: 1 };
  }

  /** The current handle of claim `id` (renewals replace it). */
  get(id: string): Claim | undefined {
    return this.#held.get(id)?.claim;
  }

  has(id: string): boolean {
    return this.#held.has(id);
  }

  /** Stops renewing claim `id` without touching it (its job was abandoned); waiting gates answer false. */
  untrack(id: string): void {
    this.#take(id);
  }

  /**
   * Like `LeaseKeeper.confirm`: whether claim `id` is surely still ours. Answers at once for
   * a claim with time left and no doubt; otherwise renews it and waits for the answer.
   */
  async confirm(id: string, signal?: AbortSignal): Promise<boolean> {
    const held = this.#held.get(id);
    if (!held) return false;
    if (!held.doubt.pending && this.#leftMs(held) > safetyMs(held)) return true;
    this.#doubt([held]);
    void this.#renew(held);
    return held.doubt.wait(signal);
  }

  /** Renews claim `id` now (whatever its time left); false if it was lost. */
  async renewNow(id: string, signal?: AbortSignal): Promise<boolean> {
    const held = this.#held.get(id);
    if (!held) return false;
    this.#doubt([held]);
    void this.#renew(held);
    return held.doubt.wait(signal);
  }

  /** Puts every claim in doubt and renews them all at once (after a resume). */
  async revalidate(): Promise<OwnershipCheck> {
    const helds = [...this.#held.values()];
    this.#doubt(helds);
    return this.#round(helds, (held) => held.ttlMs);
  }

  /** Renews every claim to at least `ttlMs` (the hibernate `hold` policy). */
  async hold(ttlMs: number): Promise<OwnershipCheck> {
    return this.#round([...this.#held.values()], (held) => Math.max(held.ttlMs, ttlMs));
  }

  /**
   * Completes claim `id` with `result` (stops renewing it first). Throws `LeaseLostError`
   * when another owner has it now.
   */
  async complete(id: string, result: JsonObject | undefined, signal: AbortSignal): Promise<ClaimState> {
    const held = this.#take(id);
    if (!held) throw new LeaseLostError(id, { cause: new Error('no claim held') });
    return held.store.complete(held.claim, result, signal);
  }

  /** Gives claim `id` up so the next attempt can take it at once. Best effort. */
  async release(id: string, signal: AbortSignal): Promise<void> {
    const held = this.#take(id);
    if (!held) return;
    try {
      await held.store.release(held.claim, signal);
    } catch (error) {
      if (!isAbortError(error)) this.#options.onError?.(error as Error);
    }
  }

  #take(id: string): HeldClaim | undefined {
    const held = this.#held.get(id);
    if (!held) return undefined;
    this.#held.delete(id);
    held.doubt.fail();
    return held;
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = this.#options.clock.setTimer(this.#options.intervalMs, () => {
      for (const held of this.#held.values()) {
        if (held.doubt.pending || this.#leftMs(held) <= held.claim.ttlMs / 2) void this.#renew(held);
      }
      this.#arm();
    });
  }

  async #round(helds: readonly HeldClaim[], ttl: (held: HeldClaim) => number): Promise<OwnershipCheck> {
    let lost = 0;
    let unconfirmed = 0;
    await Promise.all(
      helds.map(async (held) => {
        const outcome = await this.#renew(held, ttl(held));
        if (outcome === 'lost') lost++;
        else if (outcome === 'failed') unconfirmed++;
      }),
    );
    return { checked: helds.length, lost, unconfirmed };
  }

  /** One renewal of `held`; overlapping ones wait for the one in flight, then go again. */
  async #renew(held: HeldClaim, ttlMs?: number): Promise<'ok' | 'lost' | 'failed' | 'gone'> {
    while (held.renewing) await held.renewing;
    if (this.#held.get(held.id) !== held) return 'gone';
    const seq = ++this.#seq;
    const requestedMono = this.#options.clock.monotonic();
    let outcome: 'ok' | 'lost' | 'failed' | 'gone' = 'failed';
    const renewing = (async () => {
      try {
        const claim = await held.store.renew(
          held.claim,
          { ttlMs: ttlMs ?? held.ttlMs },
          this.#options.signal,
        );
        if (this.#held.get(held.id) !== held) {
          outcome = 'gone';
          return;
        }
        held.claim = claim;
        held.renewedMono = requestedMono;
        held.doubt.confirmedBy(seq);
        outcome = 'ok';
      } catch (error) {
        if (this.#held.get(held.id) !== held) {
          outcome = 'gone';
        } else if (error instanceof LeaseLostError) {
          outcome = 'lost';
          this.#held.delete(held.id);
          held.doubt.fail();
          this.#options.onLost(held.id, error);
        } else if (!isAbortError(error)) {
          this.#options.onError?.(error as Error);
        }
      }
    })();
    held.renewing = renewing;
    await renewing;
    held.renewing = undefined;
    return outcome;
  }

  #doubt(helds: readonly HeldClaim[]): void {
    const seq = ++this.#seq;
    for (const held of helds) held.doubt.raise(seq);
  }

  #leftMs(held: HeldClaim): number {
    const { clock } = this.#options;
    return Math.min(
      held.claim.expiresAt - clock.now(),
      held.claim.ttlMs - (clock.monotonic() - held.renewedMono),
    );
  }
}

function safetyMs(held: HeldClaim): number {
  return Math.min(1_000, held.claim.ttlMs / 4);
}

/** Seconds until a foreign claim could expire, as a release delay SQS accepts. */
function delayUntil(ms: number): number {
  return Math.min(QueueLimits.maxVisibilitySeconds, Math.max(1, Math.ceil(ms / 1000)));
}
