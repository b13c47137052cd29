import type { JsonObject, JsonValue } from '@spotjobs/core';
import { InvalidPartitionError, SubTaskFailedError, UnknownModelClassError } from '../errors.ts';
import { Model } from './model.ts';
import type { ModelContext } from './model-context.ts';
import type { ModelClass } from './model-registry.ts';
import type { TaskFailedPayload } from './task-messages.ts';
import { checkTaskSpec, type TaskSpec } from './task-spec.ts';
import { toWireObject } from './wire-json.ts';

/** Aye-Aye's `PartitionOption`: how many workers the model could use. */
export type PartitionOption = {
  readonly minimum: number;
  readonly maximum: number;
  readonly optimal: number;
};

/**
 * Aye-Aye's `TaskPartition`: one subtask. `model_class` defaults to the parent's class; name
 * another accepted class (by name or class) to run a different model, e.g. `method: 'go'` of
 * another partitioned model, which nests.
 */
export type TaskPartition = {
  readonly model_class?: string | ModelClass;
  readonly method: string;
  readonly method_kwargs?: JsonObject;
  readonly model_construction_kwargs?: JsonObject;
  readonly partition_initialise_kwargs?: JsonObject;
};

/** What `partition_slice` returns per subtask: `[method, kwargs]` on the parent's class, or a `TaskPartition`. */
export type SubtaskSlice = readonly [method: string, kwargs?: JsonObject] | TaskPartition;

export const PartitionLimits = { maxSubtasks: 10_000 } as const;

/**
 * An Aye-Aye model that splits its work into subtasks run in parallel, anywhere: each subtask
 * is a fresh instance (same class unless a `TaskPartition` says otherwise) on which one method
 * runs, with the parent's resolver context. `go()` follows `Model`'s lifecycle; its build step:
 *
 * 1. `partition_plea()` → `{ minimum, maximum, optimal }` (default 1, 128, 16);
 * 2. workers = min(optimal, runtime.maxConcurrentTasks, maximum), raised to at least minimum;
 * 3. `build()` runs on the parent, then `partition_slice(workers)` → the subtasks (their number
 *    need not equal the workers);
 * 4. the dispatcher runs them, at most `workers` at once, retrying a failed one once; for each:
 *    `partition_subtask_complete(method, kwargs, return_value)` or
 *    `partition_subtask_failed(failure)` on the parent, as they arrive;
 * 5. `partition_complete()`.
 *
 * On each subtask instance, `partition_initialise(partition_initialise_kwargs)` runs before
 * the method. The default `partition_subtask_failed` throws `SubTaskFailedError`: the parent
 * fails with `failure_origin_task_id` naming the subtask, and unfinished subtasks are
 * cancelled; override it to log and carry on. Subtask stats are added to the parent's.
 *
 * Subtasks must be idempotent (a retry or a redelivery runs one again), and `partition_slice`
 * must answer the same list for the same inputs: a parent resumed on another node slices
 * again and skips the subtasks already complete.
 *
 * Unlike Aye-Aye, one worker does not switch to running subtasks inline: they always go
 * through the dispatcher, so retries and failure origins work the same at any size.
 *
 * @example
 * ```ts
 * class Squares extends PartitionedModel {
 *   static override readonly methods = [...PartitionedModel.methods, 'square'];
 *   total = 0;
 *   override build() {}
 *   override partition_slice() { return [1, 2, 3].map((n) => ['square', { n }] as const); }
 *   square({ n }: { n: number }) { return n * n; }
 *   override partition_subtask_complete(_method: string, _kwargs: JsonObject, value: JsonValue) { this.total += value as number; }
 * }
 * ```
 */
export abstract class PartitionedModel extends Model {
  static readonly defaultPartitionOption: PartitionOption = { minimum: 1, maximum: 128, optimal: 16 };

  partition_plea(): PartitionOption | Promise<PartitionOption> {
    return PartitionedModel.defaultPartitionOption;
  }

  abstract partition_slice(
    partition_count: number,
  ): readonly SubtaskSlice[] | Promise<readonly SubtaskSlice[]>;

  /** Runs on each subtask instance before its method (the runtime sets `start_build_time`; no super call needed). */
  partition_initialise(_kwargs: JsonObject): void | Promise<void> {}

  /** Runs on the parent for each completed subtask, to collate results. */
  partition_subtask_complete(
    _subtask_method_name: string,
    _subtask_kwargs: JsonObject,
    _subtask_return_value: JsonValue,
  ): void | Promise<void> {}

  /** Runs on the parent for each subtask that failed after its retry; by default fails the parent. */
  partition_subtask_failed(task_fail_message: TaskFailedPayload): void | Promise<void> {
    throw new SubTaskFailedError(task_fail_message);
  }

  /** Runs on the parent once every subtask has finished. */
  partition_complete(): void | Promise<void> {}

  protected override async _build(): Promise<void> {
    const { context } = this;
    const workers = workersCount(
      checkPartitionOption(await this.partition_plea(), context.modelClass),
      context.runtime.maxConcurrentTasks,
    );
    await this.build();
    const subtasks = subtaskSpecs(await this.partition_slice(workers), context);
    this.log(`Running ${subtasks.length} subtasks, at most ${workers} at a time`, 'DEBUG');
    const outcomes = context.dispatcher.run(
      { parentTaskId: context.taskId, subtasks, concurrency: workers },
      this.signal,
    );
    for await (const outcome of outcomes) {
      this.stats.merge(outcome.stats);
      if (outcome.result.type === 'TaskComplete') {
        this.stats.count('subtasks.complete');
        const { method_name, method_kwargs, return_value } = outcome.result.payload;
        await this.partition_subtask_complete(method_name, method_kwargs, return_value);
      } else {
        this.stats.count('subtasks.failed');
        await this.partition_subtask_failed(outcome.result.payload);
      }
    }
    await this.partition_complete();
  }
}

/**
 * Aye-Aye's worker count: the model's optimal, capped by what the runtime allows and by the
 * model's maximum, and (unlike Aye-Aye, which ignores it) never below its minimum.
 *
 * @example
 * ```ts
 * workersCount({ minimum: 1, maximum: 128, optimal: 16 }, 128); // 16
 * workersCount({ minimum: 12, maximum: 12, optimal: 12 }, 4); // 12
 * ```
 */
export function workersCount(option: PartitionOption, maxConcurrentTasks: number): number {
  return Math.max(option.minimum, Math.min(option.optimal, maxConcurrentTasks, option.maximum));
}

/** Throws `InvalidPartitionError` unless `option` has positive integers with minimum ≤ optimal ≤ maximum. */
export function checkPartitionOption(option: unknown, modelClass: string): PartitionOption {
  const value = (option ?? {}) as Partial<Record<keyof PartitionOption, unknown>>;
  const problems: string[] = [];
  for (const name of ['minimum', 'maximum', 'optimal'] as const) {
    const n = value[name];
    if (!Number.isInteger(n) || (n as number) < 1)
      problems.push(`partition_plea ${name} must be a positive integer`);
  }
  const { minimum, maximum, optimal } = value as PartitionOption;
  if (problems.length === 0 && !(minimum <= optimal && optimal <= maximum)) {
    problems.push(
      `partition_plea must have minimum ≤ optimal ≤ maximum (got ${minimum}, ${optimal}, ${maximum})`,
    );
  }
  if (problems.length > 0) throw new InvalidPartitionError(modelClass, problems);
  return { minimum, maximum, optimal };
}

/**
 * The task specs of `slices`: Fossa's subtask message bodies, each with the parent's
 * resolver context. Every class must be accepted and every method callable by name, checked
 * here, before anything is dispatched, so a bad slice fails the parent at once.
 */
export function subtaskSpecs(slices: readonly SubtaskSlice[], context: ModelContext): TaskSpec[] {
  const parent = context.modelClass;
  if (!Array.isArray(slices))
    throw new InvalidPartitionError(parent, ['partition_slice must return an array']);
  if (slices.length > PartitionLimits.maxSubtasks) {
    throw new InvalidPartitionError(parent, [
      `partition_slice returned ${slices.length} subtasks, more than ${PartitionLimits.maxSubtasks}`,
    ]);
  }
  const resolverContext = context.resolver.capture();
  const problems: string[] = [];
  const specs: TaskSpec[] = [];
  for (const [index, slice] of slices.entries()) {
    try {
      specs.push(subtaskSpec(slice, context, resolverContext));
    } catch (err) {
      problems.push(`subtask ${index}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (problems.length > 0) throw new InvalidPartitionError(parent, problems);
  return specs;
}

/** One slice as a task spec; throws what is wrong with it. */
function subtaskSpec(slice: SubtaskSlice, context: ModelContext, resolverContext: JsonObject): TaskSpec {
  if (typeof slice !== 'object' || slice === null) {
    throw new TypeError('a subtask must be [method, kwargs] or a TaskPartition');
  }
  const partition: TaskPartition = Array.isArray(slice)
    ? { method: slice[0] as string, method_kwargs: slice[1] as JsonObject | undefined }
    : (slice as TaskPartition);
  const named = partition.model_class ?? context.modelClass;
  const modelClass = typeof named === 'string' ? named : context.registry.nameOf(named);
  if (modelClass === undefined) throw new UnknownModelClassError((named as ModelClass).name);
  context.registry.assertCallable(modelClass, partition.method);
  return checkTaskSpec({
    model_class: modelClass,
    method: partition.method,
    method_kwargs: toWireObject(partition.method_kwargs, 'method_kwargs'),
    model_construction_kwargs: toWireObject(partition.model_construction_kwargs, 'model_construction_kwargs'),
    partition_initialise_kwargs: toWireObject(
      partition.partition_initialise_kwargs,
      'partition_initialise_kwargs',
    ),
    resolver_context: resolverContext,
  });
}
