import type { InterruptionSource } from '../ports/interruption-source.ts';
import { QueueLimits } from '../ports/queue.ts';

/**
 * What a hibernate notice does to the jobs in flight. SQS leases keep running while the
 * host sleeps, so a lease is either held for a bounded window or given back:
 * - `hold`: extend every lease (and claim) to `holdSeconds` in one batched call, let the jobs
 *   freeze with the host and go on after the resume (re-validated first). For hosts that
 *   sleep briefly; a lease is never held past SQS's 12 h ceiling.
 * - `release` (default): interrupt the jobs (`graceMs` to checkpoint) and release their
 *   messages at once, so other hosts take them over.
 *
 * Either way polling pauses until a `resume` notice, or until `resumeAfterMs` of awake time
 * has passed without one (the host did not sleep after all: a failed or spurious hibernation).
 */
export type HibernatePolicy =
  | {
      readonly policy: 'hold';
      /** 1..43 200 (SQS's ceiling, counted from each receive). */
      readonly holdSeconds: number;
      /** Default 300 000 (5 min). */
      readonly resumeAfterMs?: number;
    }
  | {
      readonly policy: 'release';
      /** How long interrupted handlers get to checkpoint and return. Default 2 000. */
      readonly graceMs?: number;
      /** Default 300 000 (5 min). */
      readonly resumeAfterMs?: number;
    };

/**
 * How the runner reacts to interruptions (see `InterruptionSource` for the notices):
 * terminate/stop stop it before the deadline, rebalance pauses it, hibernate applies the
 * `hibernate` policy, resume re-validates every lease and claim.
 *
 * @example
 * ```ts
 * interruptions: {
 *   sources: [new ImdsInterruptionSource(), new SignalInterruptionSource({ stopTimeoutMs: 120_000 })],
 *   hibernate: { policy: 'hold', holdSeconds: 600 },
 * }
 * ```
 */
export interface InterruptionOptions {
  /** Watched while the runner runs (from `run()` until it has stopped). */
  readonly sources: readonly InterruptionSource[];
  /** Default `{ policy: 'release' }`. */
  readonly hibernate?: HibernatePolicy;
  /**
   * Every message is released this long before a terminate/stop notice's time (the stop
   * deadline is `notice.at - releaseMarginMs`). Default 5 000.
   */
  readonly releaseMarginMs?: number;
  /**
   * How long running jobs may go on after a terminate/stop notice before their signal aborts.
   * Default 0: interrupt at once, so messages are back on the queue within moments and
   * another host resumes them from their checkpoints; raise it for short jobs that would
   * rather finish. Always capped by the deadline.
   */
  readonly drainMs?: number;
}

export type CompiledHibernatePolicy =
  | { readonly policy: 'hold'; readonly holdSeconds: number; readonly resumeAfterMs: number }
  | { readonly policy: 'release'; readonly graceMs: number; readonly resumeAfterMs: number };

export interface CompiledInterruptions {
  readonly sources: readonly InterruptionSource[];
  readonly hibernate: CompiledHibernatePolicy;
  readonly releaseMarginMs: number;
  readonly drainMs: number;
}

/** No sources: the runner still re-validates when its lease keeper sees the wall clock jump. */
export const defaultInterruptions: CompiledInterruptions = Object.freeze({
  sources: Object.freeze([]),
  hibernate: Object.freeze({ policy: 'release', graceMs: 2_000, resumeAfterMs: 300_000 }),
  releaseMarginMs: 5_000,
  drainMs: 0,
});

const knownKeys = new Set(['sources', 'hibernate', 'releaseMarginMs', 'drainMs']);
const hibernateKeys = new Set(['policy', 'holdSeconds', 'graceMs', 'resumeAfterMs']);
const maxMs = QueueLimits.maxVisibilitySeconds * 1000;

/**
 * Fills the defaults of `interruptions` and pushes every problem onto `issues`.
 *
 * @example
 * ```ts
 * compileInterruptions({ sources: [manual] }, issues); // release policy, 5 s margin, no drain
 * ```
 */
export function compileInterruptions(
  given: InterruptionOptions | undefined,
  issues: string[],
): CompiledInterruptions | undefined {
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null) {
    issues.push('interruptions must be an object');
    return undefined;
  }
  for (const key of Object.keys(given)) {
    if (!knownKeys.has(key)) issues.push(`unknown option "interruptions.${key}"`);
  }
  const sources = Array.isArray(given.sources) ? given.sources : [];
  if (!Array.isArray(given.sources))
    issues.push('interruptions.sources must be an array of InterruptionSource');
  sources.forEach((source, i) => {
    const ok = typeof source === 'object' && source !== null && typeof source.watch === 'function';
    if (!ok) issues.push(`interruptions.sources[${i}] must implement InterruptionSource (watch)`);
  });
  const releaseMarginMs = given.releaseMarginMs ?? 5_000;
  if (!isNumber(releaseMarginMs, 0, 600_000))
    issues.push('interruptions.releaseMarginMs must be in 0..600 000');
  const drainMs = given.drainMs ?? 0;
  if (!isNumber(drainMs, 0, maxMs)) issues.push('interruptions.drainMs must be >= 0');
  const hibernate = compileHibernate(given.hibernate ?? { policy: 'release' }, issues);
  return Object.freeze({ sources: Object.freeze([...sources]), hibernate, releaseMarginMs, drainMs });
}

function compileHibernate(given: HibernatePolicy, issues: string[]): CompiledHibernatePolicy {
  const fallback: CompiledHibernatePolicy = { policy: 'release', graceMs: 2_000, resumeAfterMs: 300_000 };
  if (typeof given !== 'object' || given === null) {
    issues.push("interruptions.hibernate must be { policy: 'hold', holdSeconds } or { policy: 'release' }");
    return fallback;
  }
  for (const key of Object.keys(given)) {
    if (!hibernateKeys.has(key)) issues.push(`unknown option "interruptions.hibernate.${key}"`);
  }
  const resumeAfterMs = given.resumeAfterMs ?? 300_000;
  if (!isNumber(resumeAfterMs, 1, maxMs))
    issues.push('interruptions.hibernate.resumeAfterMs must be positive');
  if (given.policy === 'hold') {
    if ('graceMs' in given) issues.push('interruptions.hibernate.graceMs applies to the release policy only');
    const { holdSeconds } = given;
    if (
      !(Number.isInteger(holdSeconds) && holdSeconds >= 1 && holdSeconds <= QueueLimits.maxVisibilitySeconds)
    ) {
      issues.push(
        `interruptions.hibernate.holdSeconds must be a whole number in 1..${QueueLimits.maxVisibilitySeconds}`,
      );
    }
    return Object.freeze({ policy: 'hold', holdSeconds, resumeAfterMs });
  }
  if (given.policy === 'release') {
    if ('holdSeconds' in given)
      issues.push('interruptions.hibernate.holdSeconds applies to the hold policy only');
    const graceMs = given.graceMs ?? 2_000;
    if (!isNumber(graceMs, 0, maxMs)) issues.push('interruptions.hibernate.graceMs must be >= 0');
    return Object.freeze({ policy: 'release', graceMs, resumeAfterMs });
  }
  issues.push("interruptions.hibernate.policy must be 'hold' or 'release'");
  return fallback;
}

function isNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}
