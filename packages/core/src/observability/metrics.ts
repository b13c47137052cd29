import { ValidationError } from '../errors.ts';
import { Histogram } from './histogram.ts';
import { histogramBuckets } from './histogram-buckets.ts';
import {
  Counter,
  Gauge,
  type HistogramOptions,
  type Metric,
  type MetricKind,
  type MetricOptions,
} from './metric-types.ts';
import { escapeHelp } from './prometheus-text.ts';

/**
 * `MetricsRegistry`: counters, gauges and histograms rendered in the Prometheus text
 * exposition format 0.0.4. Dependency-free and allocation-light: a daemon that idles on a
 * small spot instance pays a few `Map`s, not a client library.
 *
 * Registering a name twice answers the metric already there when kind, labels (and
 * buckets) agree, so two runners can share one registry and differ by a `queue` label;
 * a conflicting registration throws `ValidationError`.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * const jobs = registry.counter({ name: 'app_jobs_total', help: 'Jobs done.', labelNames: ['outcome'] });
 * jobs.inc({ outcome: 'ok' });
 * registry.addCollector(() => memory.set(process.memoryUsage.rss()));
 * response.end(registry.render());
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric<string, unknown>>();
  readonly #collectors: (() => void)[] = [];

  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.#register('counter', options, () => new Counter<L>(options));
  }

  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.#register('gauge', options, () => new Gauge<L>(options));
  }

  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    const metric = this.#register('histogram', options, () => new Histogram<L>(options));
    const wanted = histogramBuckets(options.buckets);
    if (wanted.join() !== metric.buckets.join()) {
      throw new ValidationError(`metric ${options.name} is already registered with other buckets`);
    }
    return metric;
  }

  /** Runs `collect` at the start of every `render`, to set gauges from a live source; answers a remover. */
  addCollector(collect: () => void): () => void {
    const entry = () => collect();
    this.#collectors.push(entry);
    return () => {
      const i = this.#collectors.indexOf(entry);
      if (i >= 0) this.#collectors.splice(i, 1);
    };
  }

  /** The metric named `name`, if registered. */
  get(name: string): Counter<string> | Gauge<string> | Histogram<string> | undefined {
    return this.#metrics.get(name) as Counter<string> | Gauge<string> | Histogram<string> | undefined;
  }

  /** Every metric as text format 0.0.4 (serve with `prometheusContentType`). */
  render(): string {
    for (const collect of this.#collectors) collect();
    const lines: string[] = [];
    for (const metric of this.#metrics.values()) {
      lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.kind}`);
      lines.push(...metric.lines());
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  #register<M extends Metric<string, unknown>>(
    kind: MetricKind,
    options: MetricOptions<string>,
    create: () => M,
  ): M {
    const existing = this.#metrics.get(options.name);
    if (!existing) {
      const metric = create();
      this.#metrics.set(metric.name, metric);
      return metric;
    }
    const sameLabels = existing.labelNames.join() === (options.labelNames ?? []).join();
    if (existing.kind !== kind || !sameLabels) {
      throw new ValidationError(
        `metric ${options.name} is already registered as a ${existing.kind} with labels [${existing.labelNames.join(', ')}]`,
      );
    }
    return existing as M;
  }
}
