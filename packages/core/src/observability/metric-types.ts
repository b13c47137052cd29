import { ValidationError } from '../errors.ts';
import { labelNameProblem, metricNameProblem, sampleLine } from './prometheus-text.ts';

/** Label name → value for one series. */
export type LabelValues<L extends string> = Readonly<Record<L, string>>;

// Call arguments: labels come first unless the metric has none, so `inc()` and
// `inc({ queue: 'q' }, 2)` are both typed exactly.
/** Arguments of `inc`: optional amount. */
export type IncArgs<L extends string> = [L] extends [never]
  ? [by?: number]
  : [labels: LabelValues<L>, by?: number];
/** Arguments of `set` and `observe`: a required value. */
export type ValueArgs<L extends string> = [L] extends [never]
  ? [value: number]
  : [labels: LabelValues<L>, value: number];
/** Arguments of `get`: the labels only. */
export type LabelArgs<L extends string> = [L] extends [never] ? [] : [labels: LabelValues<L>];

export interface MetricOptions<L extends string> {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`, units are base units (`_seconds`, `_bytes`). */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds, strictly increasing; `+Inf` is implied. Default: `defaultBuckets`. */
  readonly buckets?: readonly number[];
}

export type MetricKind = 'counter' | 'gauge' | 'histogram';

// One series per distinct tuple of label values, kept in first-seen order.
export abstract class Metric<L extends string, S> {
  abstract readonly kind: MetricKind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(options: MetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    const problems = [metricNameProblem(this.name), ...this.labelNames.map(labelNameProblem)];
    if (new Set(this.labelNames).size !== this.labelNames.length) problems.push('duplicate label names');
    const issues = problems.filter((p) => p !== undefined);
    if (issues.length > 0) throw new ValidationError(`invalid metric ${this.name}`, issues);
  }

  protected abstract initial(): S;
  protected abstract sampleLines(values: readonly string[], state: S): string[];

  /** The metric's sample lines in the text format (no HELP/TYPE). */
  lines(): string[] {
    // A series without labels is shown from the start (as 0), so rate() has a baseline.
    if (this.labelNames.length === 0) this.state(undefined);
    return [...this.series.values()].flatMap((s) => this.sampleLines(s.values, s.state));
  }

  protected state(labels: Partial<Record<string, string>> | undefined): S {
    const values = this.labelNames.map((n) => labels?.[n]);
    const given = labels ? Object.keys(labels).length : 0;
    if (values.some((v) => typeof v !== 'string') || given !== this.labelNames.length) {
      throw new ValidationError(`metric ${this.name} takes labels [${this.labelNames.join(', ')}]`);
    }
    const key = JSON.stringify(values);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { values: values as string[], state: this.initial() };
      this.series.set(key, entry);
    }
    return entry.state;
  }
}

export function split<L extends string>(
  args: readonly unknown[],
): [LabelValues<L> | undefined, number | undefined] {
  const [first, second] = args as unknown[];
  return typeof first === 'object' && first !== null
    ? [first as LabelValues<L>, second as number | undefined]
    : [undefined, first as number | undefined];
}

/**
 * A value that only goes up (and resets when the process restarts).
 *
 * @example
 * ```ts
 * const sent = registry.counter({ name: 'app_sent_total', help: 'Sent.', labelNames: ['queue'] });
 * sent.inc({ queue: 'jobs' }, 10);
 * ```
 */
export class Counter<L extends string = never> extends Metric<L, { value: number }> {
  readonly kind = 'counter';
  protected initial() {
    return { value: 0 };
  }
  /** Adds `value` (default 1, never negative). */
  inc(...args: IncArgs<L>): void {
    const [labels, by = 1] = split<L>(args);
    if (!(by >= 0)) throw new ValidationError(`counter ${this.name} cannot go down (inc by ${by})`);
    this.state(labels).value += by;
  }
  get(...args: LabelArgs<L>): number {
    return this.state(split<L>(args)[0]).value;
  }
  protected sampleLines(values: readonly string[], state: { value: number }): string[] {
    return [sampleLine(this.name, this.labelNames, values, state.value)];
  }
}

/**
 * A value that goes up and down.
 *
 * @example
 * ```ts
 * const depth = registry.gauge({ name: 'app_queue_depth', help: 'Visible messages.' });
 * depth.set(42);
 * ```
 */
export class Gauge<L extends string = never> extends Metric<L, { value: number }> {
  readonly kind = 'gauge';
  protected initial() {
    return { value: 0 };
  }
  set(...args: ValueArgs<L>): void {
    const [labels, value = 0] = split<L>(args);
    this.state(labels).value = value;
  }
  /** Adds `value` (default 1; negative to decrease). */
  inc(...args: IncArgs<L>): void {
    const [labels, by = 1] = split<L>(args);
    this.state(labels).value += by;
  }
  get(...args: LabelArgs<L>): number {
    return this.state(split<L>(args)[0]).value;
  }
  protected sampleLines(values: readonly string[], state: { value: number }): string[] {
    return [sampleLine(this.name, this.labelNames, values, state.value)];
  }
}
