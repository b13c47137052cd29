import type { InterruptionNotice, InterruptionSource, WatchOptions } from '../ports/interruption-source.ts';
import { deliverNotice } from './deliver-notice.ts';

/**
 * A source driven by the test: `emit` hands a notice to every active `watch`, `fail` an
 * error. No deduplication: the test decides what is distinct.
 *
 * @example
 * ```ts
 * const source = new ManualInterruptionSource();
 * const stop = new AbortController();
 * const watching = source.watch({ notify: (n) => handle(n), onError: console.warn, signal: stop.signal });
 * await source.emit({ kind: 'terminate', at: Date.now() + 120_000, source: 'manual' }); // 1, once handled
 * stop.abort();
 * await watching;
 * ```
 */
export class ManualInterruptionSource implements InterruptionSource {
  readonly name = 'manual';
  readonly #watchers = new Set<WatchOptions>();
  #onWatch: (() => void)[] = [];

  watch(options: WatchOptions): Promise<void> {
    if (options.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#watchers.add(options);
      for (const wake of this.#onWatch.splice(0)) wake();
      options.signal.addEventListener(
        'abort',
        () => {
          this.#watchers.delete(options);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** How many `watch` calls are active. */
  get watchers(): number {
    return this.#watchers.size;
  }

  /** Resolves once at least one `watch` is active. */
  watched(): Promise<void> {
    if (this.#watchers.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.#onWatch.push(resolve));
  }

  /**
   * Delivers `notice` to every active watcher; resolves once each `notify` has settled
   * (a rejection goes to that watcher's `onError`), with how many watchers acted on it.
   */
  async emit(notice: InterruptionNotice): Promise<number> {
    const results = await Promise.all([...this.#watchers].map((w) => deliverNotice(w, notice)));
    return results.filter(Boolean).length;
  }

  /** Reports `error` to every active watcher's `onError`, as an unreachable IMDS would. */
  fail(error: Error): void {
    for (const watcher of this.#watchers) watcher.onError(error);
  }
}
