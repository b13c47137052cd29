// TableReadModel over a real node's records (local backend in a temporary directory): nodes
// from heartbeats, a task with its subtasks (who ran each, attempts, failures), and paged
// listings of running and finished tasks.
import { ValidationError } from '@spotjobs/core';
import type { LocalStore } from '@spotjobs/core/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskStore } from '../src/distribution/task-store.ts';
import { exampleModelRegistry } from '../src/examples/example-models.ts';
import type { FossaNode } from '../src/node/fossa-node.ts';
import { TableReadModel } from '../src/node/table-read-model.ts';
import { type LocalNode, startLocalNode } from './support/local-node.ts';
import { taskRecord } from './support/task-records.ts';

let local: LocalNode;
let store: LocalStore;
let node: FossaNode;
let readModel: TableReadModel;
const signal = new AbortController().signal;
const nodeId = `rm-${Math.random().toString(36).slice(2, 8)}`;

async function finish(spec: object): Promise<string> {
  const outcome = await node.submit(spec);
  if (outcome.kind !== 'accepted') throw new Error(JSON.stringify(outcome));
  for (let i = 0; i < 600; i++) {
    const task = await readModel.task(outcome.taskId, signal);
    if (task && task.status !== 'running') return outcome.taskId;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`task ${outcome.taskId} did not finish`);
}

beforeAll(async () => {
  local = await startLocalNode({
    nodeId,
    registry: exampleModelRegistry(),
    capacity: 4,
    pollWaitSeconds: 1,
    heartbeatIntervalMs: 100,
    address: '127.0.0.1:2345',
  });
  ({ node, store } = local);
  readModel = new TableReadModel(node.store);
});

afterAll(() => local?.stop());

describe('TableReadModel', () => {
  it('lists the node from its heartbeat', async () => {
    for (let i = 0; i < 100 && (await readModel.nodes(signal)).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await readModel.nodes(signal)).toEqual([
      expect.objectContaining({ nodeId, address: '127.0.0.1:2345', capacity: 4, source: 'heartbeat' }),
    ]);
  });

  it('shows a failed task with its origin and every subtask, who ran it and how often', async () => {
    const taskId = await finish({ model_class: 'PartialFailure' });
    const task = await readModel.task(taskId, signal);
    expect(task).toMatchObject({ taskId, status: 'failed', nodeId, failureOriginTaskId: `${taskId}:0` });
    expect(task?.results?.type).toBe('TaskFailed');
    expect(task?.subtasks.map((s) => s.taskId)).toEqual([0, 1, 2, 3].map((i) => `${taskId}:${i}`));
    expect(task?.subtasks[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      nodeId,
      modelClass: 'PartialFailure',
    });
    expect(task?.subtasks.every((s) => s.nodeId === nodeId && s.finishedAt !== null)).toBe(true);
    expect(await readModel.task('nothere', signal)).toBeUndefined();
  });

  it('pages finished tasks newest first, per node and cluster-wide', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await finish({ model_class: 'NothingEtl' }));
    const first = await readModel.tasks({ state: 'finished', nodeId, limit: 2 }, signal);
    expect(first.tasks.map((t) => t.taskId)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await readModel.tasks(
      { state: 'finished', nodeId, limit: 2, cursor: first.nextCursor! },
      signal,
    );
    expect(second.tasks[0]?.taskId).toBe(ids[0]);
    const all = await readModel.tasks({ state: 'finished', limit: 200 }, signal);
    expect(all.tasks.map((t) => t.taskId)).toEqual(expect.arrayContaining(ids));
    expect(all.tasks.every((t) => t.status !== 'running' && t.parentTaskId === null)).toBe(true);
    await expect(readModel.tasks({ state: 'finished', limit: 0 }, signal)).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('lists a running task until it finishes', async () => {
    const outcome = await node.submit({
      model_class: 'LongRunningEtl',
      model_construction_kwargs: { loops: 1, loop_seconds: 1 },
    });
    if (outcome.kind !== 'accepted') throw new Error(JSON.stringify(outcome));
    const runningPage = await readModel.tasks({ state: 'running', nodeId, limit: 10 }, signal);
    expect(runningPage.tasks.map((t) => t.taskId)).toContain(outcome.taskId);
    for (let i = 0; i < 200; i++) {
      const page = await readModel.tasks({ state: 'running', limit: 10 }, signal);
      if (!page.tasks.some((t) => t.taskId === outcome.taskId)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await readModel.tasks({ state: 'running', limit: 10 }, signal)).tasks).toEqual([]);
    expect((await readModel.task(outcome.taskId, signal))?.status).toBe('complete');
  });

  it('keeps the finished history bounded: pruning drops the oldest beyond the limit', async () => {
    const bounded = new TaskStore(store.table('pruned'), { historyLimit: 2 });
    const record = (taskId: string, finished: number) =>
      taskRecord({
        task_id: taskId,
        status: 'complete',
        node_id: 'node-x',
        started: finished - 10,
        finished,
      });
    for (const [i, id] of ['aaaaa', 'bbbbb', 'ccccc', 'ddddd'].entries())
      await bounded.listFinished(record(id, 1000 + i), undefined);
    expect(await bounded.pruneFinished('finished#node-x')).toBe(2);
    const page = await new TableReadModel(bounded).tasks(
      { state: 'finished', nodeId: 'node-x', limit: 10 },
      signal,
    );
    expect(page.tasks.map((t) => t.taskId)).toEqual(['ddddd', 'ccccc']);
  });
});
