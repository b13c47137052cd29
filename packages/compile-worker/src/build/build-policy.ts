/**
 * The timing rules of the build state machine. Defaults suit Pacloud-sized builds (minutes to
 * hours, one per host); the configuration (`config.ts`) can change every one.
 *
 * @example
 * ```ts
 * const policy = resolveBuildPolicy({ failedRetryAfterMs: 60_000 });
 * ```
 */
export interface BuildPolicy {
  /** A failed build can be admitted again (by an authenticated request) this long after it failed. */
  readonly failedRetryAfterMs: number;
  /**
   * How long a pending enqueue may stay unconfirmed before another request or the reclaimer
   * enqueues again (the first enqueuer is presumed dead). Above any sane SQS send latency.
   */
  readonly enqueueGraceMs: number;
  /**
   * A queued build whose message was sent this long ago and that no worker started is sent
   * again (its message may have been dead-lettered or lost). Duplicates are harmless: claims
   * deduplicate them.
   */
  readonly redispatchAfterMs: number;
  /** A building record whose owner's claim lapsed this long ago (no update since) is reclaimed. */
  readonly stuckAfterMs: number;
  /** Attempts per generation before a reclaimed build is marked failed instead of re-queued. */
  readonly maxAttempts: number;
  /** Enqueues per generation before a never-started build is marked failed. */
  readonly maxDispatches: number;
}

export const defaultBuildPolicy: BuildPolicy = Object.freeze({
  failedRetryAfterMs: 3_600_000,
  enqueueGraceMs: 30_000,
  redispatchAfterMs: 6 * 3_600_000,
  stuckAfterMs: 1_800_000,
  maxAttempts: 3,
  maxDispatches: 5,
});

/** `overrides` on top of the defaults, frozen. */
export function resolveBuildPolicy(overrides: Partial<BuildPolicy> = {}): BuildPolicy {
  return Object.freeze({ ...defaultBuildPolicy, ...overrides });
}
