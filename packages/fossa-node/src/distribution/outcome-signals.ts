import { AbortedError } from '@spotjobs/core';

/**
 * In-process wake-ups for parents waiting on subtask outcomes: a subtask that finishes on this
 * node wakes its parent at once (if the parent runs here too); outcomes recorded by other
 * nodes are found by the parent's periodic read of the Table.
 *
 * @example
 * ```ts
 * const woke = await signals.wait('abcde', 250, signal); // true when notified, false on timeout
 * signals.notify('abcde');
 * ```
 */
export class OutcomeSignals {
  readonly #waiters = new Map<string, Set<() => void>>();

  notify(parentTaskId: string): void {
    const waiters = this.#waiters.get(parentTaskId);
    if (!waiters) return;
    this.#waiters.delete(parentTaskId);
    for (const wake of waiters) wake();
  }

  /** Waits for a `notify(parentTaskId)` for at most `ms`; answers whether it came. */
  wait(parentTaskId: string, ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.reject(new AbortedError({ cause: signal.reason }));
    return new Promise((resolve, reject) => {
      let waiters = this.#waiters.get(parentTaskId);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(parentTaskId, waiters);
      }
      const done = (outcome: boolean | Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(parentTaskId) === waiters)
          this.#waiters.delete(parentTaskId);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const wake = () => done(true);
      const onAbort = () => done(new AbortedError({ cause: signal.reason }));
      const timer = setTimeout(() => done(false), ms);
      waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
