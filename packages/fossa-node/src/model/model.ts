import type { JsonObject } from '@spotjobs/core';
import { type Dataset, type OpenDatasetOptions, openDataset } from '../datasets/dataset.ts';
import type { DatasetIoOptions } from '../datasets/dataset-io.ts';
import type { ModelContext } from './model-context.ts';
import { type ModelLogLevel, writeModelLog } from './model-log.ts';
import { ModelStats } from './model-stats.ts';
import type { ResolverContext } from './resolver-context.ts';

/** Dataset options a model may set; where datasets live comes from the node (`ModelContext.datasets`). */
export type ModelDatasetOptions = Omit<OpenDatasetOptions, keyof DatasetIoOptions | 'signal'>;

/**
 * An Aye-Aye model: an ETL step run by `go`. Method names are Aye-Aye's (snake_case), because
 * they are the contract model authors write against.
 *
 * `go()` runs, and answers whether it succeeded:
 * 1. `pre_build_check()`; false → log "Pre-build check failed" (ERROR), close datasets, answer false;
 * 2. close datasets, `build()`, close datasets;
 * 3. `post_build_check()`; false → log "Post-build check failed" (ERROR), close datasets, answer false;
 * 4. close datasets, log each statistic ("Statistic: rows = 12"), answer true.
 *
 * A thrown error fails the task (its datasets' open writers are aborted, so nothing half
 * written is published). Only methods listed in the class's static `methods` can be called
 * by name from a task; `go` always is.
 *
 * @example
 * ```ts
 * class CountRows extends Model {
 *   static override readonly methods = ['go'];
 *   readonly input = this.dataset('{input_path}');
 *   override async build() {
 *     for await (const _row of this.input) this.stats.count('rows');
 *   }
 * }
 * registry.register('CountRows', CountRows);
 * ```
 */
export abstract class Model {
  /** Methods a task may call by name. Subclasses extend it: `[...Model.methods, 'my_step']`. */
  static readonly methods: readonly string[] = ['go'];

  readonly context: ModelContext;
  /** Fossa's `model_construction_kwargs`. */
  readonly kwargs: JsonObject;
  readonly stats: ModelStats;
  /** When the build (or, for a subtask, `partition_initialise`) started, on the monotonic clock (ms). */
  start_build_time: number | undefined;
  /** Minimum seconds between two PROGRESS lines of `log_progress` (Aye-Aye's 20). */
  progress_log_interval = 20;
  #progressLoggedAt: number | undefined;
  readonly #datasets: Dataset[] = [];

  constructor(context: ModelContext, kwargs: JsonObject = {}) {
    this.context = context;
    this.kwargs = kwargs;
    this.stats = new ModelStats(context.clock);
  }

  /** Aborts when the run must stop; pass it to every wait and I/O call. */
  get signal(): AbortSignal {
    return this.context.signal;
  }

  /** The task's resolver context (template variables). */
  get resolver(): ResolverContext {
    return this.context.resolver;
  }

  async go(): Promise<boolean> {
    this.start_build_time = this.context.clock.monotonic();
    if (!(await this.pre_build_check())) {
      this.log('Pre-build check failed', 'ERROR');
      await this.close_datasets();
      return false;
    }
    await this.close_datasets();
    await this._build();
    await this.close_datasets();
    if (!(await this.post_build_check())) {
      this.log('Post-build check failed', 'ERROR');
      await this.close_datasets();
      return false;
    }
    await this.close_datasets();
    for (const line of this.stats.describe()) this.log(`Statistic: ${line}`);
    return true;
  }

  /** Conditions `build` relies on; false stops `go` before it builds. */
  pre_build_check(): boolean | Promise<boolean> {
    return true;
  }

  /** The model's work. */
  abstract build(): void | Promise<void>;

  /** A check of what `build` produced; false makes `go` answer false. */
  post_build_check(): boolean | Promise<boolean> {
    return true;
  }

  /** What `go` runs between the checks; `PartitionedModel` splits it into subtasks (Aye-Aye's `_build`). */
  protected async _build(): Promise<void> {
    await this.build();
  }

  /** Logs `msg` at an Aye-Aye level (DEBUG, PROGRESS, INFO, WARNING, ERROR, CRITICAL), bound with the task id. */
  log(msg: string, level: ModelLogLevel = 'INFO'): void {
    writeModelLog(this.context.logger, level, msg);
  }

  /**
   * Reports how far the build is (0–1) as a PROGRESS line with the seconds remaining, at most
   * once every `progress_log_interval` seconds, so it can be called for every record.
   */
  log_progress(position_pc: number, msg = ''): void {
    const now = this.context.clock.monotonic();
    if (!(position_pc > 0.0001)) return;
    if (
      this.#progressLoggedAt !== undefined &&
      now - this.#progressLoggedAt < this.progress_log_interval * 1000
    )
      return;
    const runningSeconds = (now - (this.start_build_time ?? now)) / 1000;
    const remaining = runningSeconds / position_pc - runningSeconds;
    this.log(
      `${(position_pc * 100).toFixed(2)}% ${remaining.toFixed(2)} seconds remaining. ${msg}`,
      'PROGRESS',
    );
    this.#progressLoggedAt = now;
  }

  /**
   * A dataset of this model (Aye-Aye's `Connect`): `{name}`s in `uri` are resolved from the
   * resolver context, and writers still open are closed by `close_datasets`.
   */
  dataset(uri: string, options: ModelDatasetOptions = {}): Dataset {
    const dataset = openDataset(this.resolver.resolve(uri), {
      ...this.context.datasets,
      ...options,
      signal: this.signal,
    });
    this.#datasets.push(dataset);
    return dataset;
  }

  /** Closes every dataset, publishing writers still open. `go` calls it between stages. */
  async close_datasets(): Promise<void> {
    for (const dataset of this.#datasets) await dataset.close();
  }

  /** Aborts writers still open, so a failed run publishes nothing half written. */
  async abort_datasets(reason?: unknown): Promise<void> {
    await Promise.all(this.#datasets.map((dataset) => dataset.abort(reason)));
  }
}
