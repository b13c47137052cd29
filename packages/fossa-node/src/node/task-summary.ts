import type { JsonObject } from '@spotjobs/core';
import { isFinished, type TaskRecord } from '../distribution/task-records.ts';

/**
 * Fossa's timestamps: Flask serialised `datetime`s as HTTP dates.
 *
 * @example
 * ```ts
 * httpDate(Date.UTC(2024, 3, 16, 10, 22)); // 'Tue, 16 Apr 2024 10:22:00 GMT'
 * ```
 */
export function httpDate(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toUTCString();
}

/**
 * Fossa's task summary (`GET /api/0.01/task/<id>`, `node_info`'s lists): the task message's
 * fields, `on_completion_callback: null`, `task_id`, `started`, `status` (`running`,
 * `complete` or `failed`; a subtask still queued reads `running`), and once finished
 * `finished` and `results`. Added here: `node_id`, `parent_task_id`, `attempt`, `resumed`
 * and, once finished, the model's `stats`.
 *
 * @example
 * ```ts
 * taskSummary(record).status; // 'running'
 * ```
 */
export function taskSummary(record: TaskRecord): JsonObject {
  const summary: JsonObject = {
    model_class: record.model_class,
    method: record.method,
    method_kwargs: record.method_kwargs,
    resolver_context: record.resolver_context,
    on_completion_callback: null,
    task_id: record.task_id,
    model_construction_kwargs: record.model_construction_kwargs,
    partition_initialise_kwargs: record.partition_initialise_kwargs,
    started: httpDate(record.started),
    status: isFinished(record) ? record.status : 'running',
    node_id: record.node_id,
    parent_task_id: record.parent_task_id,
    attempt: record.attempt,
    resumed: record.resumed,
  };
  if (isFinished(record)) {
    summary.finished = httpDate(record.finished);
    summary.results = record.results as unknown as JsonObject;
    summary.stats = record.stats as unknown as JsonObject;
  }
  return summary;
}
