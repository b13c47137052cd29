import type { Logger } from '@spotjobs/core';

/**
 * `Notifier`: tells people what became of a cluster request. It is called only once the
 * outcome is final and written (`.cf-created`, `.cf-failed`, `.cf-deleted`), never before,
 * so a notice never announces what did not happen. A failing notifier is logged and does
 * not change the outcome.
 *
 * Adapters: `SesNotifier` (e-mail through SES), `LogNotifier` (the log only, when no
 * e-mail is configured), `MemoryNotifier` (tests).
 *
 * @example
 * ```ts
 * await notifier.notify({ outcome: 'created', uid: 'alice', cluster: 'demo', subject, text }, signal);
 * ```
 */
export interface Notifier {
  notify(notice: ClusterNotice, signal?: AbortSignal): Promise<void>;
}

export interface ClusterNotice {
  readonly outcome: 'created' | 'failed' | 'deleted' | 'refused';
  /** The requester; undefined when the key's user id itself was refused. */
  readonly uid: string | undefined;
  /** The cluster name from the request key (may be the refused name). */
  readonly cluster: string;
  readonly subject: string;
  readonly text: string;
}

/**
 * A `Notifier` that only logs each notice (at info), for deployments without e-mail.
 *
 * @example
 * ```ts
 * const notifier = new LogNotifier(logger);
 * ```
 */
export class LogNotifier implements Notifier {
  readonly #logger: Logger;
  constructor(logger: Logger) {
    this.#logger = logger;
  }
  async notify(notice: ClusterNotice): Promise<void> {
    this.#logger.info({ notice }, notice.subject);
  }
}
