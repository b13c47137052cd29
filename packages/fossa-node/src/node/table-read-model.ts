import type { Clock } from '@spotjobs/core';
import { systemClock } from '@spotjobs/core';
import { subtaskId } from '../dispatch/subtask-dispatcher.ts';
import {
  indexEntryOf,
  isFinished,
  type NodeHeartbeat,
  type SubtaskOutcomeRecord,
  type TaskIndexEntry,
  TaskKeys,
  type TaskRecord,
  type TaskRecordStatus,
} from '../distribution/task-records.ts';
import type { TaskStore } from '../distribution/task-store.ts';
import type {
  ClusterReadModel,
  NodeView,
  SubtaskView,
  TaskPage,
  TaskQuery,
  TaskStatus,
  TaskSummary,
  TaskView,
} from '../web/read-model.ts';
import { checkTaskQuery } from '../web/task-paging.ts';

export interface TableReadModelOptions {
  /** A node whose last heartbeat is older than this is left out (default 30 s). */
  readonly staleAfterMs?: number;
  /** Subtasks shown on a task's page (default 1000; the rest are counted, not listed). */
  readonly maxSubtasks?: number;
  readonly clock?: Clock;
}

/**
 * The cluster as the node pages and the gateway read it, from the node's records in the
 * Table (`task-records.ts`): nodes from their heartbeats, any task with its subtasks (their
 * state items and the outcomes in the parent's partition), and paged listings of top-level
 * tasks, running (oldest first) or finished (newest first, bounded history), cluster-wide or
 * per node. Subtasks are not in the listings; a node's running subtasks are in its heartbeat.
 *
 * @example
 * ```ts
 * const readModel = new TableReadModel(new TaskStore(table));
 * const page = await readModel.tasks({ state: 'finished', limit: 25 }, signal);
 * ```
 */
export class TableReadModel implements ClusterReadModel {
  readonly #store: TaskStore;
  readonly #staleAfterMs: number;
  readonly #maxSubtasks: number;
  readonly #clock: Clock;

  constructor(store: TaskStore, options: TableReadModelOptions = {}) {
    this.#store = store;
    this.#staleAfterMs = options.staleAfterMs ?? 30_000;
    this.#maxSubtasks = options.maxSubtasks ?? 1000;
    this.#clock = options.clock ?? systemClock;
  }

  async nodes(signal: AbortSignal): Promise<NodeView[]> {
    const now = this.#clock.now();
    return (await this.#store.heartbeats(signal))
      .filter((beat) => now - beat.last_seen <= this.#staleAfterMs)
      .map(nodeView);
  }

  async task(taskId: string, signal: AbortSignal): Promise<TaskView | undefined> {
    const item = await this.#store.getTask(taskId, signal);
    if (!item) return undefined;
    const record = item.data;
    const progress = await this.#store.parentProgress(taskId, signal);
    const indexes = [...new Set([...progress.sent, ...progress.outcomes.keys()])]
      .sort((a, b) => a - b)
      .slice(0, this.#maxSubtasks);
    const subtasks: SubtaskView[] = [];
    for (let start = 0; start < indexes.length; start += 50) {
      const chunk = indexes.slice(start, start + 50);
      const states = await Promise.all(chunk.map((i) => this.#store.getTask(subtaskId(taskId, i), signal)));
      chunk.forEach((index, i) => {
        subtasks.push(subtaskView(record, index, states[i]?.data, progress.outcomes.get(index)));
      });
    }
    const results = isFinished(record) ? record.results : null;
    return {
      // A task's page and its listing entry summarise it the same way.
      ...entrySummary(indexEntryOf(record)),
      methodKwargs: record.method_kwargs,
      modelConstructionKwargs: record.model_construction_kwargs,
      resolverContext: record.resolver_context,
      results,
      failureOriginTaskId: results?.type === 'TaskFailed' ? results.payload.failure_origin_task_id : null,
      subtasks,
    };
  }

  async tasks(query: TaskQuery, signal: AbortSignal): Promise<TaskPage> {
    checkTaskQuery(query);
    const page = await this.#store.listing(
      TaskKeys.listing(query.state, query.nodeId),
      {
        limit: query.limit,
        cursor:
          query.cursor === undefined ? undefined : Buffer.from(query.cursor, 'base64url').toString('utf8'),
        reverse: query.state === 'finished',
      },
      signal,
    );
    return {
      tasks: page.entries.map(entrySummary),
      // The pages accept base64url cursors only; the Table's own may hold any character.
      nextCursor: page.cursor === undefined ? null : Buffer.from(page.cursor, 'utf8').toString('base64url'),
    };
  }
}

function taskStatus(status: TaskRecordStatus): TaskStatus {
  return status === 'queued' ? 'running' : status;
}

function nodeView(beat: NodeHeartbeat): NodeView {
  return {
    nodeId: beat.node_id,
    address: beat.address,
    capacity: beat.capacity,
    available: beat.available,
    runningTaskIds: beat.running_task_ids,
    lastHeartbeatAt: beat.last_seen,
    source: 'heartbeat',
  };
}

function entrySummary(entry: TaskIndexEntry): TaskSummary {
  return {
    taskId: entry.task_id,
    modelClass: entry.model_class,
    method: entry.method,
    status: taskStatus(entry.status),
    startedAt: entry.started ?? 0,
    finishedAt: entry.finished,
    nodeId: entry.node_id,
    parentTaskId: entry.parent_task_id,
  };
}

/** A subtask from its state item (once a node took it) and its outcome (once recorded). */
function subtaskView(
  parent: TaskRecord,
  index: number,
  state: TaskRecord | undefined,
  outcome: SubtaskOutcomeRecord | undefined,
): SubtaskView {
  return {
    taskId: subtaskId(parent.task_id, index),
    modelClass: state?.model_class ?? parent.model_class,
    method: state?.method ?? '',
    status: outcome
      ? outcome.result.type === 'TaskComplete'
        ? 'complete'
        : 'failed'
      : (state?.status ?? 'queued'),
    nodeId: outcome?.node_id ?? state?.node_id ?? null,
    attempts: outcome?.attempts ?? state?.attempt ?? 0,
    startedAt: state?.started ?? null,
    finishedAt: outcome?.finished ?? state?.finished ?? null,
  };
}
