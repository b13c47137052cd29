import { ValidationError } from '../errors.ts';

/**
 * `count` bucket bounds from `start`, each `factor` times the last.
 *
 * @example
 * ```ts
 * exponentialBuckets(0.1, 4, 5); // [0.1, 0.4, 1.6, 6.4, 25.6]
 * ```
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0 && factor > 1 && Number.isInteger(count) && count >= 1)) {
    throw new ValidationError('exponentialBuckets needs start > 0, factor > 1 and count >= 1');
  }
  // toPrecision trims float noise (0.1 * 4 ** 2 is 1.6000000000000003) from the `le` labels.
  return Array.from({ length: count }, (_, i) => Number((start * factor ** i).toPrecision(12)));
}

/** Bucket bounds as a histogram keeps them: validated, `+Inf` dropped (it is implied). */
export function histogramBuckets(buckets: readonly number[] = defaultBuckets): readonly number[] {
  const bounds = buckets.filter((b) => b !== Number.POSITIVE_INFINITY);
  if (bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))) {
    throw new ValidationError('histogram buckets must be finite and strictly increasing', [
      bounds.join(', '),
    ]);
  }
  return bounds;
}

/** Prometheus's client default buckets, in seconds. */
export const defaultBuckets: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
