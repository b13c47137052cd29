import type { TaskRecord } from '../distribution/task-records.ts';

/** Finished tasks a node remembers for `node_info` (Fossa's list grew without bound). */
export const defaultRecentTasks = 50;

/**
 * What this node is running now and finished lately, in memory: `node_info` and the
 * heartbeat read it. The Table has the same facts for every node; this is the fast local view.
 *
 * @example
 * ```ts
 * activity.started(record);
 * activity.finished(finalRecord);
 * activity.running(); // oldest first
 * ```
 */
export class NodeActivity {
  readonly #running = new Map<string, TaskRecord>();
  readonly #recent: TaskRecord[] = [];
  readonly #limit: number;

  constructor(recentLimit = defaultRecentTasks) {
    this.#limit = recentLimit;
  }

  started(record: TaskRecord): void {
    this.#running.set(record.task_id, record);
  }

  /** The task left this node without finishing (handed on, or interrupted). */
  left(taskId: string): void {
    this.#running.delete(taskId);
  }

  finished(record: TaskRecord): void {
    this.#running.delete(record.task_id);
    this.#recent.unshift(record);
    if (this.#recent.length > this.#limit) this.#recent.length = this.#limit;
  }

  isRunning(taskId: string): boolean {
    return this.#running.has(taskId);
  }

  /** Running tasks, oldest first (as Fossa's `running_tasks`). */
  running(): TaskRecord[] {
    return [...this.#running.values()].sort((a, b) => (a.started ?? 0) - (b.started ?? 0));
  }

  /** Finished tasks, newest first, at most the limit. */
  recent(): TaskRecord[] {
    return [...this.#recent];
  }
}
