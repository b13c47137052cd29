// Summaries of repeated benchmark measurements, shared by every package's `pnpm bench`.

/** Median and spread of repeated measurements. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max − min) / median, in %: how much the rounds disagree. */
  readonly spreadPct: number;
  readonly values: readonly number[];
}

/**
 * Summarises the rounds of one figure; the median resists the odd round disturbed by another
 * process on a small machine.
 *
 * @example
 * ```ts
 * summarise([2700, 2900, 2800]).median; // 2800
 * ```
 */
export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('nothing to summarise');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  const min = sorted[0] as number;
  const max = sorted.at(-1) as number;
  return { median, min, max, spreadPct: median === 0 ? 0 : ((max - min) / median) * 100, values };
}

/**
 * The value below which a share `p` (0–1) of the values lie, by nearest rank (no
 * interpolation: the answer is always one of the measured values); NaN for no values. Takes
 * any iterable of numbers, typed arrays of latencies included.
 *
 * @example
 * ```ts
 * percentile([5, 1, 4, 2, 3], 0.5); // 3
 * percentile(latencies, 0.99);
 * ```
 */
export function percentile(values: Iterable<number>, p: number): number {
  const sorted = Float64Array.from(values).sort(); // a typed array sorts by value
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}
