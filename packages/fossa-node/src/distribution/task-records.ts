import type { JsonObject } from '@spotjobs/core';
import type { StatsSnapshot } from '../model/model-stats.ts';
import type { TaskResultMessage } from '../model/task-messages.ts';
import type { TaskSpec } from '../model/task-spec.ts';

// What the node keeps in the core Table, so any node can answer for any task and resume any
// parent. One partition per task (`task#<id>`) holds its state item and, for a parent, one
// `sub#<index>` outcome per subtask (written once, `ifAbsent`) and one `sent#<index>` item per
// batch of subtasks put on the queue (`{ indexes }`, keyed by the batch's first index). A
// subtask's own `task#<id>` state appears once a node starts it. Times are epoch milliseconds.

/** Where a task is; `queued` only for a subtask not yet taken by a node. */
export type TaskRecordStatus = 'queued' | 'running' | 'complete' | 'failed';

/** The `state` item of `task#<id>`. */
export type TaskRecord = TaskSpec & {
  readonly task_id: string;
  readonly parent_task_id: string | null;
  readonly status: TaskRecordStatus;
  /** The node running it (last attempt), null while queued. */
  readonly node_id: string | null;
  /** The attempt running or last run: 1, or 2 for the retry of a failed subtask. */
  readonly attempt: number;
  /** Failed attempts so far (subtasks; absent on older records). */
  readonly failures?: number;
  /** How many times another node took a parent over after its node died. */
  readonly resumed: number;
  readonly started: number | null;
  readonly finished: number | null;
  readonly results: TaskResultMessage | null;
  readonly stats: StatsSnapshot | null;
};

/** The `sub#<index>` item of a parent's partition: a subtask's final outcome, recorded once. */
export type SubtaskOutcomeRecord = {
  readonly index: number;
  readonly task_id: string;
  readonly result: TaskResultMessage;
  readonly stats: StatsSnapshot;
  readonly attempts: number;
  readonly node_id: string;
  readonly finished: number;
};

/** An entry of a task listing partition (`running`, `finished`, and the same per node). */
export type TaskIndexEntry = {
  readonly task_id: string;
  readonly node_id: string | null;
  readonly parent_task_id: string | null;
  readonly model_class: string;
  readonly method: string;
  readonly status: TaskRecordStatus;
  readonly started: number | null;
  readonly finished: number | null;
};

/** A node's heartbeat item (`nodes` / `<node id>`). */
export type NodeHeartbeat = {
  readonly node_id: string;
  /** `host:port` of its HTTP API. */
  readonly address: string | null;
  readonly capacity: number;
  readonly available: number;
  readonly running_task_ids: string[];
  readonly last_seen: number;
};

const INDEX_DIGITS = 5;
const TIME_DIGITS = 15;

/**
 * Table keys, in one place.
 *
 * @example
 * ```ts
 * TaskKeys.outcome('abcde', 3); // { pk: 'task#abcde', sk: 'sub#00003' }
 * ```
 */
export const TaskKeys = {
  taskPartition: (taskId: string) => `task#${taskId}`,
  state: (taskId: string) => ({ pk: `task#${taskId}`, sk: 'state' }),
  outcome: (parentId: string, index: number) => ({
    pk: `task#${parentId}`,
    sk: `sub#${String(index).padStart(INDEX_DIGITS, '0')}`,
  }),
  sent: (parentId: string, index: number) => ({
    pk: `task#${parentId}`,
    sk: `sent#${String(index).padStart(INDEX_DIGITS, '0')}`,
  }),
  outcomePrefix: 'sub#',
  sentPrefix: 'sent#',
  /** Parents that have not finished: what the resume sweep reads. */
  activeParent: (taskId: string) => ({ pk: 'active-parents', sk: taskId }),
  activeParents: 'active-parents',
  node: (nodeId: string) => ({ pk: 'nodes', sk: nodeId }),
  nodes: 'nodes',
  /** Listing partitions: `running` / `finished`, or per node with `#<node id>`. */
  listing: (state: 'running' | 'finished', nodeId?: string) => (nodeId ? `${state}#${nodeId}` : state),
  /** Sorts by time, then id: ascending is oldest first, `reverse` newest first. */
  listingSk: (at: number, taskId: string) =>
    `${String(Math.max(0, Math.trunc(at))).padStart(TIME_DIGITS, '0')}#${taskId}`,
} as const;

/**
 * Index of a `sub#`/`sent#` sort key.
 *
 * @example
 * ```ts
 * indexOfSortKey('sub#00012'); // 12
 * ```
 */
export function indexOfSortKey(sk: string): number {
  return Number(sk.slice(sk.indexOf('#') + 1));
}

/**
 * A listing entry for `record`.
 *
 * @example
 * ```ts
 * await table.put({ pk: 'finished', sk }, asJson(indexEntryOf(record)));
 * ```
 */
export function indexEntryOf(record: TaskRecord): TaskIndexEntry {
  return {
    task_id: record.task_id,
    node_id: record.node_id,
    parent_task_id: record.parent_task_id,
    model_class: record.model_class,
    method: record.method,
    status: record.status,
    started: record.started,
    finished: record.finished,
  };
}

/**
 * True once a task has its final results.
 *
 * @example
 * ```ts
 * isFinished({ status: 'queued' }); // false
 * ```
 */
export function isFinished(record: Pick<TaskRecord, 'status'>): boolean {
  return record.status === 'complete' || record.status === 'failed';
}

/**
 * Fossa's status string for a result message.
 *
 * @example
 * ```ts
 * statusOf(result); // 'complete' for a TaskComplete, 'failed' for a TaskFailed
 * ```
 */
export function statusOf(result: TaskResultMessage): 'complete' | 'failed' {
  return result.type === 'TaskComplete' ? 'complete' : 'failed';
}

/**
 * The spec fields of a record (what runs again when a parent is resumed).
 *
 * @example
 * ```ts
 * await runModel(environment, { taskId: record.task_id, spec: specOf(record) });
 * ```
 */
export function specOf(record: TaskRecord): TaskSpec {
  return {
    model_class: record.model_class,
    method: record.method,
    method_kwargs: record.method_kwargs,
    model_construction_kwargs: record.model_construction_kwargs,
    partition_initialise_kwargs: record.partition_initialise_kwargs,
    resolver_context: record.resolver_context,
  };
}

/**
 * A record as the `Table` stores it (records are JSON objects by construction).
 *
 * @example
 * ```ts
 * await table.put(TaskKeys.outcome(parentId, index), asJson(outcome), { ifAbsent: true });
 * ```
 */
export function asJson<T extends object>(value: T): JsonObject {
  return value as unknown as JsonObject;
}
