/**
 * The doubt over one held lease or claim, and the ownership gates waiting for it to clear.
 * `LeaseKeeper` and `ClaimKeeper` keep one per held item.
 *
 * Doubt arises (a resume, a gate finding little time left) as a number from its keeper's
 * sequence, which also numbers the keeper's calls: only a call sent after the doubt arose
 * clears it, since an answer to a call sent before the host froze proves nothing.
 *
 * ```
 *  call #3 sent .. freeze .. resume: raise(#4) .. #3 answers ok: still in doubt, gates wait
 *                                    call #5 sent .. answers ok: confirmedBy(#5) -> gates true
 *                                    lost, untracked, keeper stopped: fail()     -> gates false
 * ```
 *
 * @example
 * ```ts
 * const doubt = new OwnershipDoubt();
 * doubt.raise(++seq);
 * const owned = doubt.wait(signal); // resolves with the answer
 * const call = ++seq;
 * await renew();
 * doubt.confirmedBy(call); // owned -> true
 * ```
 */
export class OwnershipDoubt {
  /** The sequence number the doubt arose at; undefined while there is none. */
  #since: number | undefined;
  #waiters: ((owned: boolean) => void)[] = [];

  /** Whether ownership is in doubt (gates wait). */
  get pending(): boolean {
    return this.#since !== undefined;
  }

  /** Puts ownership in doubt as of `seq`; a doubt already pending keeps its older number. */
  raise(seq: number): void {
    this.#since ??= seq;
  }

  /** A call numbered `seq` confirmed ownership: clears a doubt that arose before it and answers waiting gates true. */
  confirmedBy(seq: number): void {
    if (this.#since === undefined || seq <= this.#since) return;
    this.#since = undefined;
    this.#settle(true);
  }

  /** Waiting gates answer false (the item was lost or untracked, or its keeper stopped). */
  fail(): void {
    this.#settle(false);
  }

  /** Waits for the answer; false at once, or as soon as, `signal` aborts. */
  wait(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = () => finish(false);
      const finish = (owned: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        this.#waiters = this.#waiters.filter((w) => w !== finish);
        resolve(owned);
      };
      this.#waiters.push(finish);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #settle(owned: boolean): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(owned);
  }
}

/** What one immediate round of confirmations (`revalidate`, `hold`) of a keeper found. */
export interface OwnershipCheck {
  /** Items asked about. */
  readonly checked: number;
  /** Items found taken over or expired (their jobs were told through `onLost`). */
  readonly lost: number;
  /** Items the round could not confirm (an error); the next ticks try again. */
  readonly unconfirmed: number;
}
