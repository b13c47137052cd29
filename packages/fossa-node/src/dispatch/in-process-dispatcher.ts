import { availableParallelism } from 'node:os';
import type { Clock, Logger } from '@spotjobs/core';
import { AbortedError, systemClock, throwIfAborted, ValidationError } from '@spotjobs/core';
import type { DatasetIoOptions } from '../datasets/dataset-io.ts';
import { SubtaskTimeoutError } from '../errors.ts';
import type { ModelEnvironment } from '../model/model-context.ts';
import type { ModelRegistry } from '../model/model-registry.ts';
import { type ModelRunResult, runModel } from '../model/run-model.ts';
import { taskFailed } from '../model/task-messages.ts';
import type { TaskSpec } from '../model/task-spec.ts';
import { toWireJson } from '../model/wire-json.ts';
import { Semaphore } from './semaphore.ts';
import {
  checkDispatchRequest,
  type DispatchRequest,
  releasingSlotWhileWaiting,
  type SubtaskDispatcher,
  type SubtaskOutcome,
  subtaskId,
} from './subtask-dispatcher.ts';

export interface InProcessDispatcherOptions {
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly datasets?: DatasetIoOptions;
  /** Subtasks running at once in this process, over every parent (default: CPUs × 2, Fossa's ratio). */
  readonly maxConcurrentSubtasks?: number;
  /** Attempts per subtask (default 2: Fossa retries a failed subtask once). */
  readonly maxAttempts?: number;
  /** An attempt running longer than this fails with `SubtaskTimeoutError` (and is retried by the policy); default none. */
  readonly subtaskTimeoutMs?: number;
}

const EMPTY_STATS = { counters: {}, timers: {} } as const;

/**
 * Runs subtasks in this process: the embedded default's "process pool", and what tests use.
 * Each attempt is a `runModel` call with the subtask's spec after a JSON round trip (so what
 * works here works distributed), its own task id `<parent>:<index>`, attempt number and abort
 * signal. Bounded twice: per request by `concurrency` (the parent's workers) and overall by
 * `maxConcurrentSubtasks` slots; a subtask that is itself a partitioned parent gives its slot
 * back while it waits on its own subtasks, so nesting never deadlocks the pool.
 *
 * A failed attempt is retried, with the next attempt number, until `maxAttempts`; a timed-out
 * attempt counts as failed. When the parent stops iterating, unfinished subtasks are aborted
 * and awaited.
 *
 * @example
 * ```ts
 * const dispatcher = new InProcessDispatcher({ registry, logger });
 * const { result } = await runModel({ registry, logger, dispatcher }, { taskId: 'abcde', spec: { model_class: 'PartialFailure' } });
 * result.payload.failure_origin_task_id; // 'abcde:0'
 * ```
 */
export class InProcessDispatcher implements SubtaskDispatcher {
  readonly #registry: ModelRegistry;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #datasets: DatasetIoOptions;
  readonly #slots: Semaphore;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number | undefined;

  constructor(options: InProcessDispatcherOptions) {
    const { maxConcurrentSubtasks = availableParallelism() * 2, maxAttempts = 2, subtaskTimeoutMs } = options;
    const problems: string[] = [];
    if (!Number.isInteger(maxConcurrentSubtasks) || maxConcurrentSubtasks < 1)
      problems.push('maxConcurrentSubtasks must be a positive integer');
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      problems.push('maxAttempts must be a positive integer');
    if (subtaskTimeoutMs !== undefined && !(Number.isFinite(subtaskTimeoutMs) && subtaskTimeoutMs > 0))
      problems.push('subtaskTimeoutMs must be a positive number');
    if (problems.length > 0) throw new ValidationError('invalid in-process dispatcher options', problems);
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#datasets = options.datasets ?? {};
    this.#slots = new Semaphore(maxConcurrentSubtasks);
    this.#maxAttempts = maxAttempts;
    this.#timeoutMs = subtaskTimeoutMs;
  }

  /** Subtask slots in all, and free now. */
  get capacity(): { readonly size: number; readonly available: number } {
    return { size: this.#slots.size, available: this.#slots.available };
  }

  async *run(request: DispatchRequest, signal: AbortSignal): AsyncGenerator<SubtaskOutcome> {
    checkDispatchRequest(request);
    throwIfAborted(signal);
    const cancel = new AbortController();
    const active = AbortSignal.any([signal, cancel.signal]);
    const finished: SubtaskOutcome[] = [];
    const running = new Set<Promise<void>>();
    let failure: { readonly error: unknown } | undefined;
    let wake: (() => void) | undefined;
    let next = 0;

    const start = (index: number) => {
      const subtask: Promise<void> = this.#runSubtask(request, index, active)
        .then(
          (outcome) => {
            finished.push(outcome);
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => {
          running.delete(subtask);
          wake?.();
        });
      running.add(subtask);
    };

    try {
      for (;;) {
        while (!failure && next < request.subtasks.length && running.size < request.concurrency)
          start(next++);
        if (failure) throw failure.error;
        const outcome = finished.shift();
        if (outcome) {
          yield outcome;
          continue;
        }
        if (running.size === 0) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      // The parent stopped (done, failed or aborted): cancel what still runs and wait for it,
      // so no subtask outlives its parent's run.
      cancel.abort(new AbortedError());
      await Promise.all(running);
    }
  }

  async #runSubtask(request: DispatchRequest, index: number, signal: AbortSignal): Promise<SubtaskOutcome> {
    const spec = request.subtasks[index]!;
    const taskId = subtaskId(request.parentTaskId, index);
    for (let attempt = 1; ; attempt++) {
      const { result, stats } = await this.#attempt(spec, taskId, attempt, signal);
      if (result.type === 'TaskComplete' || attempt >= this.#maxAttempts) {
        return { index, taskId, spec, result, stats, attempts: attempt };
      }
      this.#logger.warn(
        { taskId, attempt, exception: result.payload.exception_class_name },
        'subtask failed; retrying',
      );
    }
  }

  async #attempt(
    spec: TaskSpec,
    taskId: string,
    attempt: number,
    signal: AbortSignal,
  ): Promise<ModelRunResult> {
    const permit = await this.#slots.acquire(signal);
    const timeout = new AbortController();
    const timeoutMs = this.#timeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : this.#clock.setTimer(timeoutMs, () => timeout.abort(new SubtaskTimeoutError(taskId, timeoutMs)));
    const environment: ModelEnvironment = {
      registry: this.#registry,
      logger: this.#logger,
      clock: this.#clock,
      datasets: this.#datasets,
      maxConcurrentTasks: this.#slots.size,
      dispatcher: releasingSlotWhileWaiting(this, permit),
    };
    try {
      return await runModel(environment, {
        taskId,
        spec: toWireJson(spec, 'the subtask spec'),
        attempt,
        signal: timer ? AbortSignal.any([signal, timeout.signal]) : signal,
      });
    } catch (err) {
      if (!signal.aborted && timeout.signal.aborted) {
        return { result: taskFailed(spec, taskId, timeout.signal.reason), stats: EMPTY_STATS };
      }
      throw err;
    } finally {
      timer?.cancel();
      permit.release();
    }
  }
}
