import { SpotjobsError } from '@spotjobs/core';

/**
 * A subtask delivered more often than any retry policy explains: its attempts keep ending
 * without an outcome (the node running it dies, or its handler breaks). It is failed instead
 * of run again, so a subtask that kills its node cannot crash the cluster one node at a time.
 *
 * @example
 * ```ts
 * new SubtaskAbandonedError('abcde:3', 5).message; // 'subtask abcde:3 delivered 5 times without an outcome; not run again'
 * ```
 */
export class SubtaskAbandonedError extends SpotjobsError {
  readonly code = 'SUBTASK_ABANDONED';
  readonly taskId: string;
  readonly deliveries: number;
  constructor(taskId: string, deliveries: number, options?: { cause?: unknown }) {
    super(`subtask ${taskId} delivered ${deliveries} times without an outcome; not run again`, options);
    this.taskId = taskId;
    this.deliveries = deliveries;
  }
}
