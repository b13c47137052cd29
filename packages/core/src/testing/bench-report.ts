// The verdict table every `pnpm bench` prints (core, compile-worker, ...): one row per figure,
// the measured side beside its baseline, the ratio, the target and PASS / FAIL.
import type { Summary } from './bench-stats.ts';

/**
 * One line of the verdict table.
 *
 * @example
 * ```ts
 * const row: ReportRow = { scenario: 'no-op', core: '3100', baseline: '2800', ratio: '1.11×', target: '≥ 1.0×', pass: true };
 * ```
 */
export interface ReportRow {
  readonly scenario: string;
  readonly core: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  /** `undefined` for an informational row without a target. */
  readonly pass: boolean | undefined;
}

/**
 * `median [min–max]` with `digits` decimals: the figure and how much the rounds disagree.
 *
 * @example
 * ```ts
 * formatSummary(summarise([2700, 2900, 2800]), 0, ' msg/s'); // '2800 msg/s [2700–2900]'
 * ```
 */
export function formatSummary(summary: Summary, digits = 0, unit = ''): string {
  const f = (value: number) => value.toFixed(digits);
  if (summary.values.length === 1) return `${f(summary.median)}${unit}`;
  return `${f(summary.median)}${unit} [${f(summary.min)}–${f(summary.max)}]`;
}

/**
 * Renders the rows as an aligned plain-text table (readable in a CI log, no colours).
 *
 * @example
 * ```ts
 * console.log(renderTable([{ scenario: 'no-op', core: '3100', baseline: '2800', ratio: '1.11×', target: '≥ 1.0×', pass: true }]));
 * ```
 */
export function renderTable(rows: readonly ReportRow[]): string {
  const header = ['scenario', 'core', 'baseline', 'ratio', 'target', 'result'];
  const cells = rows.map((r) => [
    r.scenario,
    r.core,
    r.baseline,
    r.ratio,
    r.target,
    r.pass === undefined ? '-' : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(header), rule, ...cells.map(line)].join('\n');
}
