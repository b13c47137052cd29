import type { Clock, Logger } from '@spotjobs/core';
import { systemClock } from '@spotjobs/core';
import type { DatasetIoOptions } from '../datasets/dataset-io.ts';
import type { SubtaskDispatcher } from '../dispatch/subtask-dispatcher.ts';
import type { ModelRegistry } from './model-registry.ts';
import { ResolverContext } from './resolver-context.ts';

/** Aye-Aye's `RuntimeKnowledge`: what the executor tells a model about where it runs. */
export interface RuntimeKnowledge {
  /** How many tasks may run at once here; a partitioned model runs at most this many subtasks at once. */
  readonly maxConcurrentTasks: number;
}

/**
 * What a node provides to every model run: the allow-list, how subtasks are run, logging,
 * time and dataset access. Nothing in it knows about HTTP or queues; the node composes it.
 */
export interface ModelEnvironment {
  readonly registry: ModelRegistry;
  readonly dispatcher: SubtaskDispatcher;
  /** The node's logger; each run binds its task id. */
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly datasets?: DatasetIoOptions;
  /** Default 128, Fossa's distributed setting, so a model's `partition_plea` decides. */
  readonly maxConcurrentTasks?: number;
}

/**
 * Everything one model instance sees of the world, fixed for its run. It replaces Aye-Aye's
 * globals (the connector resolver, the process pool): a model reaches the resolver, logging
 * and the subtask dispatcher through here, so runs in one process never share state.
 */
export interface ModelContext {
  readonly taskId: string;
  /** The allow-listed name this instance runs under (subtasks default to it). */
  readonly modelClass: string;
  /** 1 for the first attempt at this task; a retry of a failed subtask is attempt 2. */
  readonly attempt: number;
  /** Aborts when the run must stop: the node is shutting down or interrupted, or a subtask timed out. */
  readonly signal: AbortSignal;
  /** Bound with `taskId` and `modelClass`. */
  readonly logger: Logger;
  readonly clock: Clock;
  readonly resolver: ResolverContext;
  readonly registry: ModelRegistry;
  readonly dispatcher: SubtaskDispatcher;
  readonly datasets: DatasetIoOptions;
  readonly runtime: RuntimeKnowledge;
}

/** Per-run values of a `ModelContext`. */
export interface ModelRunIdentity {
  readonly taskId: string;
  readonly modelClass: string;
  readonly attempt?: number;
  readonly signal?: AbortSignal;
  readonly resolver?: ResolverContext;
}

export const defaultMaxConcurrentTasks = 128;

/**
 * A model context for one run in `environment`. `runModel` builds one per task; tests and
 * tools may build one to construct a model directly.
 *
 * @example
 * ```ts
 * const context = createModelContext(environment, { taskId: 'abcde', modelClass: 'NothingEtl' });
 * const ok = await new NothingEtl(context).go();
 * ```
 */
export function createModelContext(environment: ModelEnvironment, run: ModelRunIdentity): ModelContext {
  return {
    taskId: run.taskId,
    modelClass: run.modelClass,
    attempt: run.attempt ?? 1,
    signal: run.signal ?? new AbortController().signal,
    logger: environment.logger.child({ taskId: run.taskId, modelClass: run.modelClass }),
    clock: environment.clock ?? systemClock,
    resolver: run.resolver ?? ResolverContext.empty,
    registry: environment.registry,
    dispatcher: environment.dispatcher,
    datasets: environment.datasets ?? {},
    runtime: { maxConcurrentTasks: environment.maxConcurrentTasks ?? defaultMaxConcurrentTasks },
  };
}
