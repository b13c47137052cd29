import type { JsonObject } from '@spotjobs/core';
import { PartitionedModel, type SubtaskSlice } from '../model/partitioned-model.ts';

/**
 * Python's division error, thrown where Python would raise it: JavaScript's `1 / 0` is
 * `Infinity`, and Fossa's failure test expects `"<class 'ZeroDivisionError'>"`.
 */
export class ZeroDivisionError extends Error {}

/**
 * Fossa's `PartialFailure`: four subtasks `do_something({ subtask_id })` answering
 * `1 / subtask_id`; subtask 0 always fails (with its retry), so the parent fails with
 * `failure_origin_task_id` naming it.
 *
 * @example
 * ```ts
 * const { result } = await runModel(environment, { taskId: 'abcde', spec: { model_class: 'PartialFailure' } });
 * result.payload.failure_origin_task_id; // 'abcde:0' with the in-process dispatcher
 * ```
 */
export class PartialFailure extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'do_something'];

  override build(): void {}

  override partition_slice(_partition_count: number): SubtaskSlice[] {
    return [0, 1, 2, 3].map((subtask_id) => ['do_something', { subtask_id }] as const);
  }

  do_something({ subtask_id }: JsonObject): number {
    if (subtask_id === 0) throw new ZeroDivisionError('division by zero');
    return 1 / (subtask_id as number);
  }
}
