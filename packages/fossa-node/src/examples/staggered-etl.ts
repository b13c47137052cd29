import type { JsonObject, JsonValue } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';
import { PartitionedModel, type PartitionOption, type SubtaskSlice } from '../model/partitioned-model.ts';
import { numberKwarg } from './example-kwargs.ts';

/**
 * Fossa's `StaggeredEtl`, for rate limiting: 12 subtasks that each sleep 0.4 s, run by exactly
 * `{requested_workers}` workers at once (from the resolver context, through `partition_plea`
 * min = max = optimal). Each subtask answers its start time (seconds since the epoch); the
 * parent collects `{ started, finished }` per subtask and, when the resolver context has
 * `output_datasets`, writes them to `{output_datasets}/staggered_results.csv`.
 * `sub_tasks_count` and `sleep_seconds` in `model_construction_kwargs` change the shape.
 *
 * @example
 * ```ts
 * await runModel(environment, {
 *   taskId: 'abcde',
 *   spec: { model_class: 'StaggeredEtl', resolver_context: { requested_workers: 12, output_datasets: '/tmp/out' } },
 * });
 * ```
 */
export class StaggeredEtl extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'some_work'];

  readonly results: { started: number; finished: number }[] = [];

  override build(): void {}

  override partition_plea(): PartitionOption {
    const requested = Number(this.resolver.resolve('{requested_workers}'));
    if (!Number.isInteger(requested) || requested < 1 || requested > 1024) {
      throw new ValidationError('invalid requested_workers', [
        'requested_workers must be an integer from 1 to 1024',
      ]);
    }
    return { minimum: requested, maximum: requested, optimal: requested };
  }

  override partition_slice(_partition_count: number): SubtaskSlice[] {
    const count = numberKwarg(this.kwargs, 'sub_tasks_count', 12, { min: 1, max: 1000, integer: true });
    // Subtasks are built with the kwargs of their slice (Aye-Aye's rule), so pass ours on.
    return Array.from({ length: count }, () => ({
      method: 'some_work',
      model_construction_kwargs: this.kwargs,
    }));
  }

  override partition_subtask_complete(_method: string, _kwargs: JsonObject, started: JsonValue): void {
    this.results.push({ started: started as number, finished: this.context.clock.now() / 1000 });
  }

  override async partition_complete(): Promise<void> {
    if (!this.resolver.has('output_datasets')) return;
    await this.dataset('{output_datasets}/staggered_results.csv', {
      fieldNames: ['started', 'finished'],
    }).write(this.results);
  }

  async some_work(): Promise<number> {
    const started = this.context.clock.now() / 1000;
    const seconds = numberKwarg(this.kwargs, 'sleep_seconds', 0.4, { min: 0, max: 60 });
    await this.stats.time('some_work', () => this.context.clock.sleep(seconds * 1000, this.signal));
    return started;
  }
}
