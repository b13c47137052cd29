// The core bench's report row and summary, defined here until `@spotjobs/core/testing` exports
// them (`ReportRow`, `summarise`, `formatSummary`): then this file goes and the imports move.

/** One line of the verdict table. */
export interface ReportRow {
  readonly scenario: string;
  readonly core: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  /** `undefined` for an informational row without a target. */
  readonly pass: boolean | undefined;
}

/** Median and spread of repeated measurements. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly values: readonly number[];
}

/**
 * Median, min and max of the rounds of one figure.
 *
 * @example
 * ```ts
 * summarise([270, 290, 280]).median; // 280
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
  return { median, min: sorted[0] as number, max: sorted.at(-1) as number, values };
}

/**
 * `median [min–max]`: the figure and how much the rounds disagree.
 *
 * @example
 * ```ts
 * formatSummary(summarise([270, 290, 280]), 0, ' ms'); // '280 ms [270–290]'
 * ```
 */
export function formatSummary(summary: Summary, digits = 0, unit = ''): string {
  const f = (value: number) => value.toFixed(digits);
  if (summary.values.length === 1) return `${f(summary.median)}${unit}`;
  return `${f(summary.median)}${unit} [${f(summary.min)}–${f(summary.max)}]`;
}
