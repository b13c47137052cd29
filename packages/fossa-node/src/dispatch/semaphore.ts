import { AbortedError, ValidationError } from '@spotjobs/core';

/**
 * One unit of a `Semaphore`, held by whoever acquired it. It can be given back for a while
 * and taken again (a parent that waits on its subtasks gives its compute slot back, so its
 * subtasks can use it, then takes one again to finish). `release` is idempotent, so the owner
 * may always release at the end, whatever happened in between.
 */
export interface Permit {
  readonly held: boolean;
  release(): void;
  /** Waits for a unit again (no-op when already held); rejects with `AbortedError` when `signal` aborts first. */
  reacquire(signal?: AbortSignal): Promise<void>;
}

interface Waiter {
  readonly grant: () => void;
}

/**
 * A counting semaphore with FIFO waiters: at most `size` permits are held at any time, which
 * is what bounds a node's concurrent work (Fossa polled a shared counter and could over-accept).
 * `tryAcquire` never waits (for "503 when full"); `acquire` waits, abortably.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(4);
 * const permit = slots.tryAcquire();
 * if (!permit) return reply503();
 * try { await run(); } finally { permit.release(); }
 * ```
 */
export class Semaphore {
  readonly size: number;
  #available: number;
  readonly #waiters: Waiter[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new ValidationError('invalid semaphore size', [`size must be a positive integer (got ${size})`]);
    }
    this.size = size;
    this.#available = size;
  }

  /** Permits free right now. */
  get available(): number {
    return this.#available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** A permit if one is free now (and nobody is queued ahead), else `undefined`. */
  tryAcquire(): Permit | undefined {
    if (this.#available === 0 || this.#waiters.length > 0) return undefined;
    this.#available--;
    return this.#permit();
  }

  /** Waits for a permit, first come first served. */
  async acquire(signal?: AbortSignal): Promise<Permit> {
    await this.#take(signal);
    return this.#permit();
  }

  #permit(): Permit {
    const semaphore = this;
    let held = true;
    let reacquiring: Promise<void> | undefined;
    return {
      get held() {
        return held;
      },
      release() {
        if (!held) return;
        held = false;
        semaphore.#give();
      },
      reacquire(signal) {
        if (held) return Promise.resolve();
        reacquiring ??= semaphore.#take(signal).then(
          () => {
            held = true;
            reacquiring = undefined;
          },
          (err: unknown) => {
            reacquiring = undefined;
            throw err;
          },
        );
        return reacquiring;
      },
    };
  }

  #take(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError({ cause: signal.reason }));
    if (this.#available > 0 && this.#waiters.length === 0) {
      this.#available--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new AbortedError({ cause: signal?.reason }));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #give(): void {
    const next = this.#waiters.shift();
    if (next)
      next.grant(); // the unit passes straight to the next waiter
    else this.#available++;
  }
}
