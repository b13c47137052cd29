import type { Clock, Queue } from '@spotjobs/core';
import { systemClock, throwIfAborted, ValidationError } from '@spotjobs/core';
import {
  checkDispatchRequest,
  type DispatchRequest,
  type SubtaskDispatcher,
  type SubtaskOutcome,
  subtaskId,
} from '../dispatch/subtask-dispatcher.ts';
import type { DistributionHooks } from './distribution-hooks.ts';
import type { OutcomeSignals } from './outcome-signals.ts';
import type { SubtaskMessage } from './subtask-message.ts';
import type { SubtaskOutcomeRecord } from './task-records.ts';
import type { TaskStore } from './task-store.ts';

export interface QueueDispatcherOptions {
  readonly queue: Queue;
  readonly store: TaskStore;
  /** Wakes a parent as soon as one of its subtasks finishes on this node. */
  readonly signals: OutcomeSignals;
  /** How often a waiting parent reads outcomes recorded by other nodes (default 200 ms). */
  readonly pollIntervalMs?: number;
  /**
   * A subtask with no outcome this long after it was sent (or after a resumed parent began
   * waiting for it) is sent again: its message was lost or dead-lettered. Set it well above
   * what the retries and redeliveries can take; default never.
   */
  readonly lostAfterMs?: number;
  /** For `lostAfterMs`; default the system clock. */
  readonly clock?: Clock;
  readonly hooks?: DistributionHooks;
}

/**
 * Runs subtasks on any node: each goes to the core `Queue` as a `SubtaskMessage` (at most
 * `concurrency` of a request in flight), any node's runner takes it (`subtaskJob`), and its
 * final outcome is recorded once in the parent's partition of the Table, where this
 * dispatcher finds it. Retries (Fossa's one retry), timeouts and redelivery are the runner's.
 *
 * A parent resumed on another node runs the same request again: outcomes already recorded are
 * replayed first without running anything, subtasks already sent are awaited rather than sent
 * again, and only the rest are sent. When the parent stops iterating early (it failed), the
 * subtasks not yet started are skipped by the workers, which see the parent finished. With
 * `lostAfterMs`, a subtask whose outcome never comes (its message lost or dead-lettered) is
 * sent again; the outcome is still recorded once.
 *
 * @example
 * ```ts
 * const dispatcher = new QueueDispatcher({ queue, store, signals });
 * for await (const outcome of dispatcher.run({ parentTaskId: 'abcde', subtasks, concurrency: 4 }, signal)) { ... }
 * ```
 */
export class QueueDispatcher implements SubtaskDispatcher {
  readonly #queue: Queue;
  readonly #store: TaskStore;
  readonly #signals: OutcomeSignals;
  readonly #pollIntervalMs: number;
  readonly #hooks: DistributionHooks;
  readonly #lostAfterMs: number | undefined;
  readonly #clock: Clock;

  constructor(options: QueueDispatcherOptions) {
    this.#queue = options.queue;
    this.#store = options.store;
    this.#signals = options.signals;
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
    this.#hooks = options.hooks ?? {};
    this.#lostAfterMs = options.lostAfterMs;
    this.#clock = options.clock ?? systemClock;
    if (!(this.#pollIntervalMs > 0)) throw new ValidationError('pollIntervalMs must be positive');
    if (this.#lostAfterMs !== undefined && !(this.#lostAfterMs > 0))
      throw new ValidationError('lostAfterMs must be positive');
  }

  async *run(request: DispatchRequest, signal: AbortSignal): AsyncGenerator<SubtaskOutcome> {
    checkDispatchRequest(request);
    throwIfAborted(signal);
    const { parentTaskId, subtasks, concurrency } = request;
    const progress = await this.#store.parentProgress(parentTaskId, signal);
    const done = new Set<number>();
    /** Index → since when it has been awaited (monotonic ms). */
    const inFlight = new Map<number, number>();
    const toSend: number[] = [];
    for (let index = 0; index < subtasks.length; index++) {
      if (progress.outcomes.has(index)) continue;
      if (progress.sent.has(index)) inFlight.set(index, this.#clock.monotonic());
      else toSend.push(index);
    }
    // Replay what a previous holder of this parent already got: nothing runs again.
    for (const [index, record] of [...progress.outcomes].sort(([a], [b]) => a - b)) {
      if (index >= subtasks.length) continue;
      done.add(index);
      yield this.#outcome(request, record);
    }
    for (;;) {
      const batch: number[] = [];
      while (inFlight.size + batch.length < concurrency && toSend.length > 0)
        batch.push(toSend.shift() as number);
      if (batch.length > 0) {
        await this.#publish(request, batch, signal);
        // Sent first, marked after: a parent dying in between sends again on resume (the
        // outcome is still recorded once); marked first, a lost send would leave it waiting.
        await this.#store.markSent(parentTaskId, batch, signal);
        for (const index of batch) inFlight.set(index, this.#clock.monotonic());
      }
      if (inFlight.size === 0) return;
      await this.#signals.wait(parentTaskId, this.#pollIntervalMs, signal);
      const found = (await this.#store.outcomes(parentTaskId, signal)).sort((a, b) => a.index - b.index);
      for (const record of found) {
        if (done.has(record.index) || !inFlight.has(record.index)) continue;
        done.add(record.index);
        inFlight.delete(record.index);
        yield this.#outcome(request, record);
      }
      await this.#resendLost(request, inFlight, signal);
    }
  }

  /** Sends again the subtasks awaited longer than `lostAfterMs` (already marked sent). */
  async #resendLost(
    request: DispatchRequest,
    inFlight: Map<number, number>,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.#lostAfterMs === undefined) return;
    const now = this.#clock.monotonic();
    const lost = [...inFlight]
      .filter(([, since]) => now - since >= (this.#lostAfterMs as number))
      .map(([i]) => i);
    if (lost.length === 0) return;
    await this.#publish(request, lost, signal);
    for (const index of lost) inFlight.set(index, this.#clock.monotonic());
  }

  async #publish(request: DispatchRequest, indexes: readonly number[], signal: AbortSignal): Promise<void> {
    const messages = indexes.map((index) => {
      const body: SubtaskMessage = {
        task_id: subtaskId(request.parentTaskId, index),
        parent_task_id: request.parentTaskId,
        index,
        spec: request.subtasks[index],
      };
      return { body: JSON.stringify(body) };
    });
    await this.#queue.send(messages, signal);
    const at = performance.now();
    for (const index of indexes) this.#hooks.subtaskSent?.(subtaskId(request.parentTaskId, index), at);
  }

  #outcome(request: DispatchRequest, record: SubtaskOutcomeRecord): SubtaskOutcome {
    return {
      index: record.index,
      taskId: record.task_id,
      spec: request.subtasks[record.index]!,
      result: record.result,
      stats: record.stats,
      attempts: record.attempts,
    };
  }
}
