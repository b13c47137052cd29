import { ValidationError } from '../errors.ts';
import { histogramBuckets } from './histogram-buckets.ts';
import { type HistogramOptions, Metric, split, type ValueArgs } from './metric-types.ts';
import { formatValue, sampleLine } from './prometheus-text.ts';

/**
 * Observations counted into cumulative buckets, with `_sum` and `_count`.
 *
 * @example
 * ```ts
 * const upload = registry.histogram({ name: 'app_upload_seconds', help: 'Uploads.', buckets: [0.1, 1, 10] });
 * upload.observe(0.42);
 * ```
 */
export class Histogram<L extends string = never> extends Metric<L, { counts: number[]; sum: number }> {
  readonly kind = 'histogram';
  readonly buckets: readonly number[];

  constructor(options: HistogramOptions<L>) {
    const buckets = histogramBuckets(options.buckets);
    if (options.labelNames?.includes('le' as L)) {
      throw new ValidationError(`invalid histogram ${options.name}`, [
        'label name "le" is reserved for buckets',
      ]);
    }
    super(options);
    this.buckets = buckets;
  }

  protected initial() {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0 };
  }

  observe(...args: ValueArgs<L>): void {
    const [labels, value = 0] = split<L>(args);
    const state = this.state(labels);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    state.counts[i]! += 1;
    state.sum += value;
  }

  protected sampleLines(values: readonly string[], state: { counts: number[]; sum: number }): string[] {
    const names = [...this.labelNames, 'le'];
    let cumulative = 0;
    const out = [...this.buckets.map(formatValue), '+Inf'].map((le, i) => {
      cumulative += state.counts[i]!;
      return sampleLine(`${this.name}_bucket`, names, [...values, le], cumulative);
    });
    out.push(sampleLine(`${this.name}_sum`, this.labelNames, values, state.sum));
    out.push(sampleLine(`${this.name}_count`, this.labelNames, values, cumulative));
    return out;
  }
}
