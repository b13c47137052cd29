import { throwIfAborted } from '@spotjobs/core';
import type { ClusterReadModel, NodeView, TaskPage, TaskQuery, TaskSummary, TaskView } from './read-model.ts';
import { checkTaskQuery, offsetCursor, offsetFromCursor } from './task-paging.ts';

/**
 * A `ClusterReadModel` over views held in memory: the reference for the port's ordering and
 * paging semantics, and the fake the page tests render from.
 *
 * @example
 * ```ts
 * const readModel = new InMemoryClusterReadModel();
 * readModel.putNode({ nodeId: 'node-a', address: '10.0.1.5:2345', capacity: 4, available: 4,
 *   runningTaskIds: [], lastHeartbeatAt: Date.now(), source: 'heartbeat' });
 * readModel.putTask(taskView);
 * await readModel.tasks({ state: 'finished', limit: 25 }, signal);
 * ```
 */
export class InMemoryClusterReadModel implements ClusterReadModel {
  readonly #nodes = new Map<string, NodeView>();
  readonly #tasks = new Map<string, TaskView>();

  /** Adds or replaces a node. */
  putNode(node: NodeView): void {
    this.#nodes.set(node.nodeId, node);
  }

  /** Adds or replaces a task. */
  putTask(task: TaskView): void {
    this.#tasks.set(task.taskId, task);
  }

  async nodes(signal: AbortSignal): Promise<NodeView[]> {
    throwIfAborted(signal);
    return [...this.#nodes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  async task(taskId: string, signal: AbortSignal): Promise<TaskView | undefined> {
    throwIfAborted(signal);
    return this.#tasks.get(taskId);
  }

  async tasks(query: TaskQuery, signal: AbortSignal): Promise<TaskPage> {
    throwIfAborted(signal);
    checkTaskQuery(query);
    const offset = offsetFromCursor(query.cursor);
    const matching = [...this.#tasks.values()]
      .filter((task) => (query.state === 'running' ? task.status === 'running' : task.status !== 'running'))
      .filter((task) => query.nodeId === undefined || task.nodeId === query.nodeId)
      .sort(query.state === 'running' ? byStartedAscending : byFinishedDescending);
    const tasks = matching.slice(offset, offset + query.limit).map(summaryOf);
    const next = offset + tasks.length;
    return { tasks, nextCursor: next < matching.length ? offsetCursor(next) : null };
  }
}

function byStartedAscending(a: TaskView, b: TaskView): number {
  return a.startedAt - b.startedAt || a.taskId.localeCompare(b.taskId);
}

function byFinishedDescending(a: TaskView, b: TaskView): number {
  return (b.finishedAt ?? 0) - (a.finishedAt ?? 0) || a.taskId.localeCompare(b.taskId);
}

function summaryOf(task: TaskView): TaskSummary {
  return {
    taskId: task.taskId,
    modelClass: task.modelClass,
    method: task.method,
    status: task.status,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    nodeId: task.nodeId,
    parentTaskId: task.parentTaskId,
  };
}
