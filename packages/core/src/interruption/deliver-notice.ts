import type { InterruptionNotice, WatchOptions } from '../ports/interruption-source.ts';

/**
 * Hands `notice` to `notify` and resolves `true` once it has been acted on (at once when
 * `notify` returns nothing), or `false` when it threw or rejected; that error goes to
 * `onError`. Never rejects, so a source may drop the promise (`void deliverNotice(...)`)
 * unless someone waits on the answer, as the sleep hook's `pre` does.
 *
 * @example
 * ```ts
 * void deliverNotice(options, { kind: 'rebalance', at: Date.parse(noticeTime), source: 'imds' });
 * ```
 */
export function deliverNotice(options: WatchOptions, notice: InterruptionNotice): Promise<boolean> {
  let result: void | Promise<void>;
  try {
    result = options.notify(notice);
  } catch (err) {
    options.onError(asError(err));
    return settledFalse;
  }
  if (result === undefined || typeof result.then !== 'function') return settledTrue;
  return result.then(
    () => true,
    (err: unknown) => {
      options.onError(asError(err));
      return false;
    },
  );
}

/** `err` itself when it is an `Error`, else an `Error` carrying it as `cause`. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err), { cause: err });
}

// Shared settled promises: the common path (notify returns nothing) allocates nothing.
const settledTrue = Promise.resolve(true);
const settledFalse = Promise.resolve(false);
