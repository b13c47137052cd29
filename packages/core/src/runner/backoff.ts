import { QueueLimits } from '../ports/queue.ts';

/**
 * How failed attempts are spaced. The delay before attempt `n + 1` is
 * `min(maxSeconds, initialSeconds * multiplier^(n - 1))`, then jittered:
 * - `full`: uniform in [0, delay] (spreads a thundering herd best, may retry at once);
 * - `equal`: uniform in [delay / 2, delay] (the default: always waits, still spreads);
 * - `none`: exactly `delay`.
 */
export interface BackoffOptions {
  /** Delay after the first failure, seconds. Default 5. */
  readonly initialSeconds?: number;
  /** Ceiling, seconds. Default 900 (SQS's longest message delay). */
  readonly maxSeconds?: number;
  /** Growth per attempt. Default 2. */
  readonly multiplier?: number;
  /** Default `equal`. */
  readonly jitter?: 'full' | 'equal' | 'none';
}

export type BackoffPolicy = Required<BackoffOptions>;

export const defaultBackoff: BackoffPolicy = {
  initialSeconds: 5,
  maxSeconds: 900,
  multiplier: 2,
  jitter: 'equal',
};

/**
 * Seconds to wait before retrying after failed attempt `attempt` (1-based), as a whole
 * number because SQS visibility timeouts are whole seconds.
 *
 * @example
 * ```ts
 * backoffSeconds(3, defaultBackoff, () => 1); // 20: 5 * 2^2, top of the equal-jitter range
 * ```
 */
export function backoffSeconds(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxSeconds, policy.initialSeconds * policy.multiplier ** exponent);
  const r = Math.min(1, Math.max(0, random()));
  const jittered =
    policy.jitter === 'none'
      ? ceiling
      : policy.jitter === 'full'
        ? ceiling * r
        : ceiling / 2 + (ceiling / 2) * r;
  return Math.min(QueueLimits.maxVisibilitySeconds, Math.max(0, Math.round(jittered)));
}
