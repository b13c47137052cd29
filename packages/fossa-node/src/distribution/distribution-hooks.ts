/**
 * Moments of a task's life on a node, for benchmarks and tests (times are
 * `performance.now()` of this process). Every hook is optional and must not throw.
 *
 * @example
 * ```ts
 * const hooks: DistributionHooks = { subtaskStarted: (id, at) => starts.set(id, at) };
 * ```
 */
export interface DistributionHooks {
  /** A subtask message was sent to the queue. */
  subtaskSent?(taskId: string, at: number): void;
  /** A node began running a subtask's model. */
  subtaskStarted?(taskId: string, at: number): void;
  /** A subtask's final outcome is about to be recorded. */
  subtaskFinished?(taskId: string, at: number): void;
  /** A top-level task's final state was recorded. */
  taskFinished?(taskId: string, at: number): void;
}
