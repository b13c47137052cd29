import { AbortedError } from '../../errors.ts';
import type { Clock } from '../../ports/clock.ts';

// In-process doorbell for LocalQueue long polls: a send (or a release to "visible now") rings
// every poll of the same queue in the same data dir, in this process, at once. Polls of other
// processes cannot hear it; they re-check every poll interval instead.

const waiters = new Map<string, Set<() => void>>();

/** The doorbell key of `queue` in the database at `databasePath` (a real path). */
export function wakeupKey(databasePath: string, queue: string): string {
  return `${databasePath}\u0000${queue}`;
}

/** Wakes every poll waiting on `key`. */
export function ringQueue(key: string): void {
  const set = waiters.get(key);
  if (!set) return;
  for (const wake of [...set]) wake();
}

/**
 * Resolves when `key` is rung or after `ms` (by `clock`), whichever comes first; rejects with
 * `AbortedError` as soon as one of `signals` aborts. Registers synchronously, so a ring that
 * happens after the caller's last check and before this call's first await is not missed.
 */
export function waitForRing(
  key: string,
  ms: number,
  clock: Clock,
  signals: readonly (AbortSignal | undefined)[],
): Promise<void> {
  const aborted = signals.find((signal) => signal?.aborted);
  if (aborted) return Promise.reject(new AbortedError({ cause: aborted.reason }));
  return new Promise<void>((resolve, reject) => {
    let set = waiters.get(key);
    if (!set) {
      set = new Set();
      waiters.set(key, set);
    }
    const finish = () => {
      timer.cancel();
      set.delete(wake);
      if (set.size === 0 && waiters.get(key) === set) waiters.delete(key);
      for (const signal of signals) signal?.removeEventListener('abort', onAbort);
    };
    const wake = () => {
      finish();
      resolve();
    };
    const onAbort = (event: Event) => {
      finish();
      reject(new AbortedError({ cause: (event.target as AbortSignal).reason }));
    };
    set.add(wake);
    const timer = clock.setTimer(ms, wake);
    for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
  });
}
