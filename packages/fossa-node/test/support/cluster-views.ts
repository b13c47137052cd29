import type { NodeView, SubtaskView, TaskView } from '../../src/web/read-model.ts';

// Views for the page and gateway tests: a finished task, a running one, a node.

export function taskView(overrides: Partial<TaskView> & { taskId: string }): TaskView {
  return {
    modelClass: 'NothingEtl',
    method: 'go',
    status: 'complete',
    startedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
    finishedAt: Date.UTC(2026, 0, 1, 12, 0, 5),
    nodeId: 'node-a',
    parentTaskId: null,
    methodKwargs: {},
    modelConstructionKwargs: {},
    resolverContext: {},
    results: {
      type: 'TaskComplete',
      payload: { method_name: 'go', method_kwargs: {}, return_value: true },
    },
    failureOriginTaskId: null,
    subtasks: [],
    ...overrides,
  };
}

/** A `PartialFailure` parent that failed because its subtask `failureOriginTaskId` did. */
export function failedParentView(
  overrides: Partial<TaskView> & { taskId: string; failureOriginTaskId: string; traceback?: string[] },
): TaskView {
  const { traceback = [], ...view } = overrides;
  return taskView({
    modelClass: 'PartialFailure',
    status: 'failed',
    results: {
      type: 'TaskFailed',
      payload: {
        model_class_name: 'PartialFailure',
        model_construction_kwargs: {},
        partition_initialise_kwargs: {},
        method_name: 'go',
        method_kwargs: {},
        resolver_context: {},
        exception_class_name: "<class 'SubTaskFailedError'>",
        traceback,
        task_id: view.taskId,
        failure_origin_task_id: view.failureOriginTaskId,
      },
    },
    ...view,
  });
}

export function subtaskView(overrides: Partial<SubtaskView> & { taskId: string }): SubtaskView {
  return {
    modelClass: 'PartialFailure',
    method: 'do_something',
    status: 'complete',
    nodeId: 'node-b',
    attempts: 1,
    startedAt: Date.UTC(2026, 0, 1, 12, 0, 1),
    finishedAt: Date.UTC(2026, 0, 1, 12, 0, 2),
    ...overrides,
  };
}

export function nodeView(overrides: Partial<NodeView> & { nodeId: string }): NodeView {
  return {
    address: '10.0.2.7:2345',
    capacity: 4,
    available: 3,
    runningTaskIds: [],
    lastHeartbeatAt: Date.UTC(2026, 0, 1, 12, 0, 0),
    source: 'heartbeat',
    ...overrides,
  };
}
