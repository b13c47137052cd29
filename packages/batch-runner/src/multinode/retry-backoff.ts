/** Exponential backoff in milliseconds, for calls between nodes. */
export interface RetryBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

/** Registration retries: quick at first (the main node is usually up), at most 5 s apart. */
export const registrationBackoff: RetryBackoff = { initialMs: 100, maxMs: 5000, multiplier: 2 };

/**
 * Delay before retry number `attempt` (1-based): `min(maxMs, initialMs × multiplier^(attempt−1))`,
 * with equal jitter (uniform in [d/2, d]) so nodes that started together do not retry in step.
 * (The core's backoff works in whole seconds for SQS delays; node-to-node calls need ms.)
 *
 * @example
 * ```ts
 * backoffDelayMs(1, registrationBackoff, () => 1); // 100
 * backoffDelayMs(4, registrationBackoff, () => 0); // 400
 * ```
 */
export function backoffDelayMs(
  attempt: number,
  policy: RetryBackoff,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
