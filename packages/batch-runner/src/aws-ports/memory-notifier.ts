import type { ClusterNotice, Notifier } from './notifier.ts';

/**
 * `Notifier` in memory: every notice is kept in `notices`; `onNotify` runs first (a test
 * checks there what was already written when the notice went out) and may throw to stand
 * for a failing mail service.
 *
 * @example
 * ```ts
 * const notifier = new MemoryNotifier();
 * // ... run a cluster request ...
 * notifier.notices[0]?.outcome; // 'failed'
 * ```
 */
export class MemoryNotifier implements Notifier {
  readonly notices: ClusterNotice[] = [];
  readonly #onNotify: ((notice: ClusterNotice) => void | Promise<void>) | undefined;

  constructor(options: { onNotify?: (notice: ClusterNotice) => void | Promise<void> } = {}) {
    this.#onNotify = options.onNotify;
  }

  async notify(notice: ClusterNotice, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.#onNotify?.(notice);
    this.notices.push(notice);
  }
}
