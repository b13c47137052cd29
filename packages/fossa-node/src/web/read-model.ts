import type { JsonObject } from '@spotjobs/core';
import type { TaskResultMessage } from '../model/task-messages.ts';

// Everything the node pages (`/`, `/task/<id>`) and the gateway read, as one port. The node
// implements it from its Table records, so any node (and the gateway) can answer for any
// task; tests use `InMemoryClusterReadModel`. Timestamps are epoch milliseconds.

/** Fossa's task status strings (compat). */
export type TaskStatus = 'running' | 'complete' | 'failed';

/** A subtask may also still wait on the queue. */
export type SubtaskStatus = TaskStatus | 'queued';

/** Where the gateway learnt of a node: its heartbeats in the Table, the ECS task listing, or both. */
export type NodeSource = 'heartbeat' | 'ecs' | 'both';

/** What ECS says about the task a node runs in (only on AWS). */
export type EcsTaskView = {
  readonly taskArn: string;
  /** `RUNNING`, `PROVISIONING`, `STOPPED`, ... as ECS reports it. */
  readonly lastStatus: string;
  readonly group: string | null;
  readonly startedAt: number | null;
  readonly privateIpv4Address: string | null;
  /** `FARGATE_SPOT`, `FARGATE`, or null when ECS does not say. */
  readonly capacityProviderName: string | null;
};

/** One node of the cluster. */
export type NodeView = {
  readonly nodeId: string;
  /** `host:port` of its HTTP API, when known. */
  readonly address: string | null;
  /** `max_concurrent_tasks` (null for a node known only from ECS). */
  readonly capacity: number | null;
  /** `available_processing_capacity`. */
  readonly available: number | null;
  readonly runningTaskIds: readonly string[];
  readonly lastHeartbeatAt: number | null;
  readonly source: NodeSource;
  readonly ecs?: EcsTaskView;
};

/** A task in a listing (a node's running or recent tasks). */
export type TaskSummary = {
  readonly taskId: string;
  readonly modelClass: string;
  readonly method: string;
  readonly status: TaskStatus;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  /** The node that ran it (last attempt), when known. */
  readonly nodeId: string | null;
  readonly parentTaskId: string | null;
};

/** A subtask as its parent's page shows it. */
export type SubtaskView = {
  readonly taskId: string;
  readonly modelClass: string;
  readonly method: string;
  readonly status: SubtaskStatus;
  readonly nodeId: string | null;
  readonly attempts: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
};

/** One task in full. */
export type TaskView = TaskSummary & {
  readonly methodKwargs: JsonObject;
  readonly modelConstructionKwargs: JsonObject;
  readonly resolverContext: JsonObject;
  /** Fossa's `results` once finished. */
  readonly results: TaskResultMessage | null;
  readonly failureOriginTaskId: string | null;
  readonly subtasks: readonly SubtaskView[];
};

/**
 * Which tasks to list. `running` lists by start, oldest first (as Fossa's `running_tasks`);
 * `finished` by finish, newest first (as `recent_completed_tasks`). `limit` is 1 to
 * `TaskPageLimits.maxLimit`; `cursor` is a previous page's `nextCursor`, opaque to callers.
 */
export type TaskQuery = {
  readonly state: 'running' | 'finished';
  readonly nodeId?: string;
  readonly limit: number;
  readonly cursor?: string;
};

/** One page of a listing; `nextCursor` is null on the last page. */
export type TaskPage = {
  readonly tasks: readonly TaskSummary[];
  readonly nextCursor: string | null;
};

export const TaskPageLimits = {
  /** The largest page a listing answers: history is bounded per request. */
  maxLimit: 200,
  /** The page size when a request names none. */
  defaultLimit: 25,
} as const;

/**
 * The cluster as the pages read it.
 *
 * @example
 * ```ts
 * const page = await readModel.tasks({ state: 'finished', nodeId: 'node-a', limit: 25 }, signal);
 * const more = page.nextCursor ? await readModel.tasks({ state: 'finished', limit: 25, cursor: page.nextCursor }, signal) : undefined;
 * ```
 */
export interface ClusterReadModel {
  /** Nodes with a recent heartbeat (the implementation decides how recent). */
  nodes(signal: AbortSignal): Promise<NodeView[]>;
  /** One task with its subtasks, or undefined when unknown. */
  task(taskId: string, signal: AbortSignal): Promise<TaskView | undefined>;
  /** A page of tasks; throws core's `ValidationError` for a limit out of bounds or a cursor it did not issue (`checkTaskQuery`). */
  tasks(query: TaskQuery, signal: AbortSignal): Promise<TaskPage>;
}
