import type { Clock, JobContext, JsonObject, Logger, SingleJobDefinition } from '@spotjobs/core';
import { AbortedError, JobTimeoutError, RetryJobError, systemClock } from '@spotjobs/core';
import type { DatasetIoOptions } from '../datasets/dataset-io.ts';
import type { Permit, Semaphore } from '../dispatch/semaphore.ts';
import { releasingSlotWhileWaiting, type SubtaskDispatcher } from '../dispatch/subtask-dispatcher.ts';
import { SubtaskAbandonedError, SubtaskTimeoutError } from '../errors.ts';
import type { ModelRegistry } from '../model/model-registry.ts';
import type { StatsSnapshot } from '../model/model-stats.ts';
import type { ModelRunResult } from '../model/run-model.ts';
import { runModel } from '../model/run-model.ts';
import { type TaskResultMessage, taskFailed } from '../model/task-messages.ts';
import type { TaskSpec } from '../model/task-spec.ts';
import { isJsonObject } from '../model/wire-json.ts';
import type { NodeActivity } from '../node/node-activity.ts';
import type { DistributionHooks } from './distribution-hooks.ts';
import type { OutcomeSignals } from './outcome-signals.ts';
import { type SubtaskMessage, subtaskMessageSchema } from './subtask-message.ts';
import { isFinished, statusOf, type TaskRecord } from './task-records.ts';
import type { TaskStore } from './task-store.ts';

export interface SubtaskJobOptions {
  readonly nodeId: string;
  readonly store: TaskStore;
  readonly registry: ModelRegistry;
  /** The node's compute slots: a subtask runs only while it holds one. */
  readonly slots: Semaphore;
  /** For nested partitions: a subtask that is itself a parent dispatches through this. */
  readonly dispatcher: SubtaskDispatcher;
  readonly signals: OutcomeSignals;
  readonly activity: NodeActivity;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly datasets?: DatasetIoOptions;
  /** Attempts per subtask (default 2: Fossa retries a failed subtask once). */
  readonly maxAttempts?: number;
  /** The runner's job timeout, named in a timed-out subtask's failure. */
  readonly jobTimeoutMs: number;
  readonly hooks?: DistributionHooks;
}

const EMPTY_STATS = { counters: {}, timers: {} };

/**
 * The runner job that runs one subtask from the queue, on any node. Attempts count recorded
 * failures (a timeout is one): a delivery cut short by its node's death or shutdown runs
 * again under the same number, and after `maxAttempts + 3` deliveries the subtask is failed
 * with `SubtaskAbandonedError` without running. A failed attempt before the last throws
 * `RetryJobError` (redelivered at once); the
 * last attempt's outcome, or the first success, is recorded once in the parent's partition
 * (`ifAbsent`: a duplicate delivery that also finished records nothing) and wakes the parent
 * if it waits on this node. A subtask whose outcome is already recorded, or whose parent has
 * finished, is acked without running. A spec this node cannot run (an unknown class) is a
 * failed subtask, like any other failure: it never crashes the node.
 *
 * @example
 * ```ts
 * const runner = await Runner.create({ queue, job: subtaskJob({ nodeId, store, registry, slots, dispatcher, signals, activity, logger, jobTimeoutMs }) });
 * ```
 */
export function subtaskJob(options: SubtaskJobOptions): SingleJobDefinition<typeof subtaskMessageSchema> {
  const clock = options.clock ?? systemClock;
  const maxAttempts = options.maxAttempts ?? 2;
  // Deliveries beyond those the retries explain: attempts whose node died or stopped. Past
  // this the subtask is failed unrun, so one that kills its node cannot take the cluster down.
  const maxDeliveries = maxAttempts + 3;
  const hooks = options.hooks ?? {};
  const { store, nodeId } = options;

  async function handle(message: SubtaskMessage, ctx: JobContext): Promise<void> {
    const { task_id: taskId, parent_task_id: parentId, index } = message;
    const [recorded, parent, previous] = await Promise.all([
      store.getOutcome(parentId, index, ctx.signal),
      store.getTask(parentId, ctx.signal),
      store.getTask(taskId, ctx.signal),
    ]);
    if (recorded) return; // a duplicate delivery: the outcome is in
    if (parent && isFinished(parent.data)) return; // the parent gave up (failed): cancelled
    // Attempts count failures, not deliveries: an attempt cut short by its node's death or
    // shutdown is run again under the same number.
    const failures = previous?.data.failures ?? 0;
    const attempt = failures + 1;
    const running = runningRecord(message, attempt, failures, clock.now());
    if (ctx.attempt > maxDeliveries) {
      const abandoned = new SubtaskAbandonedError(taskId, ctx.attempt);
      options.logger.error({ taskId, deliveries: ctx.attempt }, abandoned.message);
      await recordFinal(
        message,
        running,
        taskFailed(message.spec, taskId, abandoned),
        EMPTY_STATS,
        ctx.signal,
      );
      return;
    }
    const permit = await options.slots.acquire(ctx.signal);
    options.activity.started(running);
    // The running state is for readers only: the model starts without waiting for it.
    const runningWritten = store.putTask(running, ctx.signal);
    runningWritten.catch(() => {});
    try {
      hooks.subtaskStarted?.(taskId, performance.now());
      const { result, stats } = await runAttempt(message, ctx, attempt, permit);
      // A timed-out attempt's signal has aborted, but its failure must still be written.
      const io = ctx.signal.aborted ? AbortSignal.timeout(15_000) : ctx.signal;
      await runningWritten.catch(() => {});
      if (result.type === 'TaskFailed' && attempt < maxAttempts) {
        await store.putTask({ ...running, failures: attempt, results: result }, io);
        throw new RetryJobError(`subtask ${taskId} failed (attempt ${attempt} of ${maxAttempts}); retrying`, {
          delaySeconds: 0,
        });
      }
      await recordFinal(message, running, result, stats, io);
    } finally {
      options.activity.left(taskId);
      permit.release();
    }
  }

  /** Records the outcome once (the first recorder wins), wakes a parent waiting here, updates the state. */
  async function recordFinal(
    message: SubtaskMessage,
    running: TaskRecord,
    result: TaskResultMessage,
    stats: StatsSnapshot,
    signal: AbortSignal,
  ): Promise<void> {
    const { task_id: taskId, parent_task_id: parentId, index } = message;
    const finished = clock.now();
    hooks.subtaskFinished?.(taskId, performance.now());
    const first = await store.recordOutcome(
      parentId,
      { index, task_id: taskId, result, stats, attempts: running.attempt, node_id: nodeId, finished },
      signal,
    );
    options.signals.notify(parentId); // the outcome is in: a parent waiting here goes on at once
    const final: TaskRecord = { ...running, status: statusOf(result), finished, results: result, stats };
    if (first) await store.putTask(final, signal);
    options.activity.finished(final);
  }

  function runningRecord(
    message: SubtaskMessage,
    attempt: number,
    failures: number,
    started: number,
  ): TaskRecord {
    return {
      ...specFields(message.spec),
      task_id: message.task_id,
      parent_task_id: message.parent_task_id,
      status: 'running',
      node_id: nodeId,
      attempt,
      failures,
      resumed: 0,
      started,
      finished: null,
      results: null,
      stats: null,
    };
  }

  async function runAttempt(
    message: SubtaskMessage,
    ctx: JobContext,
    attempt: number,
    permit: Permit,
  ): Promise<ModelRunResult> {
    try {
      return await runModel(
        {
          registry: options.registry,
          logger: options.logger,
          clock,
          datasets: options.datasets,
          dispatcher: releasingSlotWhileWaiting(options.dispatcher, permit),
        },
        { taskId: message.task_id, spec: message.spec, attempt, signal: ctx.signal },
      );
    } catch (err) {
      // A timeout is a failed attempt (retried, or the subtask's failure on the last one);
      // shutdown and a lost lease hand the message on untouched.
      if (err instanceof AbortedError && ctx.signal.reason instanceof JobTimeoutError) {
        const timeout = new SubtaskTimeoutError(message.task_id, options.jobTimeoutMs, { cause: err });
        return { result: taskFailed(message.spec, message.task_id, timeout), stats: EMPTY_STATS };
      }
      throw err;
    }
  }

  return { type: 'subtask', schema: subtaskMessageSchema, handle };
}

/** The spec's fields for the task record, whatever arrived (a bad spec is recorded as it came). */
function specFields(spec: unknown): TaskSpec {
  const fields = isJsonObject(spec) ? spec : {};
  const text = (name: string, fallback: string) => {
    const value = fields[name];
    return typeof value === 'string' ? value : fallback;
  };
  const object = (name: string): JsonObject => {
    const value = fields[name];
    return isJsonObject(value) ? value : {};
  };
  return {
    model_class: text('model_class', ''),
    method: text('method', 'go'),
    method_kwargs: object('method_kwargs'),
    model_construction_kwargs: object('model_construction_kwargs'),
    partition_initialise_kwargs: object('partition_initialise_kwargs'),
    resolver_context: object('resolver_context'),
  };
}
