import { AbortedError, systemClock } from '@spotjobs/core';
import { MethodNotAllowedError } from '../errors.ts';
import type { Model } from './model.ts';
import { createModelContext, type ModelEnvironment } from './model-context.ts';
import { ModelStats, type StatsSnapshot } from './model-stats.ts';
import { PartitionedModel } from './partitioned-model.ts';
import { ResolverContext } from './resolver-context.ts';
import { type TaskResultMessage, taskComplete, taskFailed } from './task-messages.ts';
import { checkTaskSpec, type TaskSpec } from './task-spec.ts';
import { toWireJson } from './wire-json.ts';

/** One run of one task. */
export interface ModelRun {
  readonly taskId: string;
  /** The task spec as it arrived; it is validated here (a bad one gives a `TaskFailed`). */
  readonly spec: unknown;
  /** 1 for the first attempt (default); the dispatcher counts retries. */
  readonly attempt?: number;
  /** Stops the run: it then rejects with `AbortedError` (interrupted, not failed). */
  readonly signal?: AbortSignal;
}

/** What a run produced: Fossa's `results` message, and the model's stats. */
export interface ModelRunResult {
  readonly result: TaskResultMessage;
  readonly stats: StatsSnapshot;
}

/**
 * Runs one task as a library call, Fossa's isolated processor without the process: validate
 * the spec, resolve the class from the allow-list, construct the model with the task's
 * resolver context and `model_construction_kwargs`, call `partition_initialise` on a
 * partitioned model, call the method with `method_kwargs`, close its datasets.
 *
 * Every failure becomes a `TaskFailed` result, never a throw: a bad spec, an unknown class
 * (`<class 'UnknownModelClassError'>`), a method not listed, a model error, a return value
 * that is not JSON. A failed subtask gives the parent's `TaskFailed` the origin task id. The
 * one exception is `signal` aborting during the run: that rejects with `AbortedError`, so the
 * caller can hand the task to someone else instead of recording a failure.
 *
 * @example
 * ```ts
 * const { result, stats } = await runModel(environment, { taskId: 'abcde', spec: { model_class: 'NothingEtl' } });
 * result; // { type: 'TaskComplete', payload: { method_name: 'go', method_kwargs: {}, return_value: true } }
 * ```
 */
export async function runModel(environment: ModelEnvironment, run: ModelRun): Promise<ModelRunResult> {
  const signal = run.signal ?? new AbortController().signal;
  const clock = environment.clock ?? systemClock;
  const logger = environment.logger.child({ taskId: run.taskId });
  const started = clock.monotonic();
  let spec: TaskSpec | undefined;
  let model: Model | undefined;
  try {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    spec = checkTaskSpec(run.spec);
    const modelClass = environment.registry.assertCallable(spec.model_class, spec.method);
    const context = createModelContext(environment, {
      taskId: run.taskId,
      modelClass: spec.model_class,
      attempt: run.attempt ?? 1,
      signal,
      resolver: ResolverContext.from(spec.resolver_context),
    });
    model = new modelClass(context, structuredClone(spec.model_construction_kwargs));
    if (model instanceof PartitionedModel) {
      model.start_build_time = clock.monotonic();
      await model.partition_initialise(structuredClone(spec.partition_initialise_kwargs));
    }
    const method = (model as unknown as Record<string, unknown>)[spec.method];
    if (typeof method !== 'function') throw new MethodNotAllowedError(spec.model_class, spec.method);
    const returned: unknown = await method.call(model, structuredClone(spec.method_kwargs));
    const returnValue = toWireJson(returned, `the return value of ${spec.model_class}.${spec.method}`);
    await model.close_datasets();
    logger.info(
      {
        modelClass: spec.model_class,
        method: spec.method,
        attempt: run.attempt ?? 1,
        ms: clock.monotonic() - started,
      },
      'task complete',
    );
    return { result: taskComplete(spec, returnValue), stats: model.stats.snapshot() };
  } catch (err) {
    await model?.abort_datasets(err).catch(() => {});
    if (signal.aborted) throw err instanceof AbortedError ? err : new AbortedError({ cause: signal.reason });
    const result = taskFailed(spec ?? run.spec, run.taskId, err);
    logger.warn(
      {
        modelClass: result.payload.model_class_name,
        method: result.payload.method_name,
        attempt: run.attempt ?? 1,
        exception: result.payload.exception_class_name,
        failureOrigin: result.payload.failure_origin_task_id,
        err,
      },
      'task failed',
    );
    return { result, stats: (model?.stats ?? new ModelStats(clock)).snapshot() };
  }
}
