import { ValidationError } from '@spotjobs/core';
import type { StatsSnapshot } from '../model/model-stats.ts';
import type { TaskResultMessage } from '../model/task-messages.ts';
import type { TaskSpec } from '../model/task-spec.ts';
import type { Permit } from './semaphore.ts';

/** The subtasks of one partitioned run, as the parent hands them over. */
export interface DispatchRequest {
  /** The parent's task id; subtask ids are derived from it and the subtask's index. */
  readonly parentTaskId: string;
  /** Full task specs (Fossa's subtask message body), each carrying the parent's resolver context. */
  readonly subtasks: readonly TaskSpec[];
  /** At most this many of these subtasks in flight at once (the parent's worker count). */
  readonly concurrency: number;
}

/** The final outcome of one subtask, after the dispatcher's retries. */
export interface SubtaskOutcome {
  /** Position in `DispatchRequest.subtasks`. */
  readonly index: number;
  readonly taskId: string;
  readonly spec: TaskSpec;
  readonly result: TaskResultMessage;
  /** The stats of the attempt that produced `result`. */
  readonly stats: StatsSnapshot;
  /** Attempts made, 1 when the first one settled it. */
  readonly attempts: number;
}

/**
 * How a partitioned model's subtasks get run: Aye-Aye's process pool, as a port. The parent
 * iterates `run` and gets each subtask's final outcome as it arrives, in any order; a failed
 * attempt is retried by the dispatcher's policy (Fossa: once) before its failure is yielded.
 *
 * Contract for implementations:
 * - every subtask is yielded exactly once (its result counted once, even when an attempt ran
 *   twice because of a redelivery);
 * - at most `request.concurrency` subtasks of the request run at once;
 * - when the consumer stops iterating early (the parent failed), subtasks not yet finished are
 *   cancelled, and the iterator's `return` resolves once they have stopped;
 * - `signal` aborting stops the run with `AbortedError` (the parent is being interrupted, not failed).
 *
 * `InProcessDispatcher` runs subtasks in this process; the node's queue-backed dispatcher
 * sends them to any node.
 *
 * @example
 * ```ts
 * for await (const outcome of dispatcher.run({ parentTaskId, subtasks, concurrency: 16 }, signal)) {
 *   if (outcome.result.type === 'TaskFailed') throw new SubTaskFailedError(outcome.result.payload);
 * }
 * ```
 */
export interface SubtaskDispatcher {
  run(request: DispatchRequest, signal: AbortSignal): AsyncIterable<SubtaskOutcome>;
}

/**
 * Checks a request at the dispatcher's boundary: a parent id, an array of subtasks, and a
 * positive whole `concurrency`; throws core's `ValidationError` naming every problem.
 *
 * @example
 * ```ts
 * checkDispatchRequest({ parentTaskId: 'abcde', subtasks: [], concurrency: 0 }); // throws
 * ```
 */
export function checkDispatchRequest(request: DispatchRequest): void {
  const problems: string[] = [];
  if (typeof request?.parentTaskId !== 'string' || request.parentTaskId === '')
    problems.push('parentTaskId must be a non-empty string');
  if (!Array.isArray(request?.subtasks)) problems.push('subtasks must be an array');
  if (!Number.isInteger(request?.concurrency) || request.concurrency < 1)
    problems.push('concurrency must be a positive integer');
  if (problems.length > 0) throw new ValidationError('invalid dispatch request', problems);
}

/**
 * A subtask's id: `<parent>:<index>` (nested: `abcde:3:1`), whichever dispatcher runs it.
 *
 * @example
 * ```ts
 * subtaskId('abcde', 3); // 'abcde:3'
 * ```
 */
export function subtaskId(parentTaskId: string, index: number): string {
  return `${parentTaskId}:${index}`;
}

/**
 * `dispatcher`, but whoever holds `slot` gives it back while waiting for subtasks and takes
 * one again afterwards: a parent waiting on its subtasks holds no compute slot, so nested
 * partitions cannot deadlock a bounded pool and a node's capacity goes to work that runs.
 * When `signal` has aborted the slot is not taken back (the owner's final `release` is then a
 * no-op).
 *
 * @example
 * ```ts
 * const permit = await slots.acquire(signal);
 * try { await runModel({ ...environment, dispatcher: releasingSlotWhileWaiting(dispatcher, permit) }, task); }
 * finally { permit.release(); }
 * ```
 */
export function releasingSlotWhileWaiting(dispatcher: SubtaskDispatcher, slot: Permit): SubtaskDispatcher {
  return {
    async *run(request, signal) {
      slot.release();
      try {
        yield* dispatcher.run(request, signal);
      } finally {
        if (!signal.aborted) await slot.reacquire(signal);
      }
    },
  };
}
