import type { TaskRecord } from '../../src/distribution/task-records.ts';

/**
 * A task's Table record for the store, read-model and gateway tests: a top-level `NothingEtl`
 * running on `node-a`, first attempt, unless `overrides` say otherwise.
 */
export function taskRecord(overrides: Partial<TaskRecord> & { task_id: string }): TaskRecord {
  return {
    model_class: 'NothingEtl',
    method: 'go',
    method_kwargs: {},
    model_construction_kwargs: {},
    partition_initialise_kwargs: {},
    resolver_context: {},
    parent_task_id: null,
    status: 'running',
    node_id: 'node-a',
    attempt: 1,
    resumed: 0,
    started: Date.UTC(2024, 3, 16, 10, 22, 0),
    finished: null,
    results: null,
    stats: null,
    ...overrides,
  };
}
