// Distribution details on one embedded node (local backend in a temporary directory): a
// subtask attempt that runs past the timeout is aborted and retried, one that always does
// fails its parent with a timeout naming it; a parent whose subtasks all ran gets each
// outcome once; a second dispatch of the same parent (a resume) replays instead of re-running.
import type { JobContext, JsonObject } from '@spotjobs/core';
import { RetryJobError, silentLogger } from '@spotjobs/core';
import type { LocalStore } from '@spotjobs/core/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Semaphore } from '../src/dispatch/semaphore.ts';
import { OutcomeSignals } from '../src/distribution/outcome-signals.ts';
import { QueueDispatcher } from '../src/distribution/queue-dispatcher.ts';
import { subtaskJob } from '../src/distribution/subtask-job.ts';
import { exampleModels } from '../src/examples/example-models.ts';
import { ModelRegistry } from '../src/model/model-registry.ts';
import { PartitionedModel, type SubtaskSlice } from '../src/model/partitioned-model.ts';
import { checkTaskSpec } from '../src/model/task-spec.ts';
import type { FossaNode } from '../src/node/fossa-node.ts';
import { NodeActivity } from '../src/node/node-activity.ts';
import { type LocalNode, startLocalNode } from './support/local-node.ts';
import { Cities, Regions } from './support/test-models.ts';

/** One subtask that overruns any timeout on the attempts listed in `hang_on` (default: the first). */
class Overrunning extends PartitionedModel {
  static override readonly methods = [...PartitionedModel.methods, 'work'];
  override build(): void {}
  override partition_slice(): SubtaskSlice[] {
    return [{ method: 'work', method_kwargs: {}, model_construction_kwargs: this.kwargs }];
  }
  async work(): Promise<number> {
    const hangOn = (this.kwargs.hang_on as number[] | undefined) ?? [1];
    if (hangOn.includes(this.context.attempt)) await this.context.clock.sleep(120_000, this.signal);
    return this.context.attempt;
  }
}

let local: LocalNode;
let store: LocalStore;
let node: FossaNode;

async function finish(spec: JsonObject) {
  const outcome = await node.submit(spec);
  if (outcome.kind !== 'accepted') throw new Error(JSON.stringify(outcome));
  for (let i = 0; i < 1200; i++) {
    const task = await node.task(outcome.taskId);
    if (task && task.status !== 'running') return task;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`task ${outcome.taskId} did not finish`);
}

beforeAll(async () => {
  local = await startLocalNode({
    nodeId: `dist-${Math.random().toString(36).slice(2, 8)}`,
    registry: ModelRegistry.of([...exampleModels, Overrunning, Regions, Cities]),
    capacity: 4,
    pollWaitSeconds: 1,
    subtaskTimeoutMs: 1000,
  });
  ({ node, store } = local);
});

afterAll(() => local?.stop());

describe('queue-backed distribution', () => {
  it('aborts a subtask attempt past its timeout and retries it', async () => {
    const task = await finish({ model_class: 'Overrunning' });
    expect(task.status).toBe('complete');
    const subtask = await node.task(`${task.task_id}:0`);
    expect(subtask).toMatchObject({
      status: 'complete',
      attempt: 2,
      results: { payload: { return_value: 2 } },
    });
  });

  it('fails the parent with a timeout naming the subtask when every attempt overruns', async () => {
    const task = await finish({ model_class: 'Overrunning', model_construction_kwargs: { hang_on: [1, 2] } });
    expect(task.status).toBe('failed');
    expect((task.results as JsonObject).payload).toMatchObject({
      failure_origin_task_id: `${task.task_id}:0`,
    });
    const subtask = await node.task(`${task.task_id}:0`);
    expect(subtask).toMatchObject({ status: 'failed', attempt: 2 });
    expect(subtask?.results).toMatchObject({
      payload: { exception_class_name: "<class 'SubtaskTimeoutError'>" },
    });
  });

  it('runs nested partitions through the queue: subtasks that are parents wait without a slot', async () => {
    const task = await finish({ model_class: 'Regions', resolver_context: { suffix: '!' } });
    expect(task.status).toBe('complete');
    expect(await node.task(`${task.task_id}:0`)).toMatchObject({ status: 'complete', model_class: 'Cities' });
    expect(await node.task(`${task.task_id}:0:2`)).toMatchObject({
      status: 'complete',
      results: { payload: { return_value: 'c!' } },
    });
    const failed = await finish({ model_class: 'Regions', model_construction_kwargs: { fail_city: 'e' } });
    expect(failed.status).toBe('failed');
    expect((failed.results as JsonObject).payload).toMatchObject({
      failure_origin_task_id: `${failed.task_id}:1:1`,
    });
  });

  it('replays recorded outcomes to a second run of the same parent, running nothing again', async () => {
    const task = await finish({
      model_class: 'PartitionedExampleEtl',
      model_construction_kwargs: { complexity: 1 },
    });
    expect(task.status).toBe('complete');
    const before = await node.task(`${task.task_id}:5`);
    const dispatcher = new QueueDispatcher({
      queue: store.queue('fossa_task_queue'),
      store: node.store,
      signals: new OutcomeSignals(),
    });
    const subtasks = Array.from({ length: 16 }, (_, i) =>
      checkTaskSpec({
        model_class: 'PartitionedExampleEtl',
        method: 'crypto_challenge',
        method_kwargs: { i },
      }),
    );
    const outcomes = [];
    const signal = AbortSignal.timeout(5000);
    for await (const outcome of dispatcher.run(
      { parentTaskId: task.task_id as string, subtasks, concurrency: 4 },
      signal,
    ))
      outcomes.push(outcome);
    expect(outcomes.map((o) => o.index)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(outcomes.every((o) => o.result.type === 'TaskComplete')).toBe(true);
    expect(await node.task(`${task.task_id}:5`)).toEqual(before);
    expect((await store.queue('fossa_task_queue').depth()).visible).toBe(0);
  });

  it('counts failures, not deliveries, and fails unrun a subtask delivered too often', async () => {
    const job = subtaskJob({
      nodeId: 'direct',
      store: node.store,
      registry: ModelRegistry.of(exampleModels),
      slots: new Semaphore(2),
      dispatcher: new QueueDispatcher({
        queue: store.queue('unused_queue'),
        store: node.store,
        signals: new OutcomeSignals(),
      }),
      signals: new OutcomeSignals(),
      activity: new NodeActivity(),
      logger: silentLogger,
      jobTimeoutMs: 10_000,
    });
    const delivery = (attempt: number) =>
      ({ attempt, signal: new AbortController().signal }) as unknown as JobContext;
    const parent = `p${Math.random().toString(36).slice(2, 8)}`;
    const lucky = {
      task_id: `${parent}:0`,
      parent_task_id: parent,
      index: 0,
      spec: { model_class: 'SecondTimeLucky', method: 'build_document', method_kwargs: { doc_name: 'a' } },
    };
    // Delivery 2 (the first one's node died): still attempt 1, which fails and asks for a retry.
    await expect(job.handle(lucky, delivery(2))).rejects.toBeInstanceOf(RetryJobError);
    expect(await node.task(`${parent}:0`)).toMatchObject({ status: 'running', attempt: 1 });
    await job.handle(lucky, delivery(3));
    expect(await node.task(`${parent}:0`)).toMatchObject({ status: 'complete', attempt: 2 });
    expect(await node.store.getOutcome(parent, 0)).toMatchObject({
      attempts: 2,
      result: { type: 'TaskComplete' },
    });

    const poison = {
      task_id: `${parent}:1`,
      parent_task_id: parent,
      index: 1,
      spec: { model_class: 'NothingEtl' },
    };
    await job.handle(poison, delivery(6));
    const abandoned = await node.task(`${parent}:1`);
    expect(abandoned).toMatchObject({
      status: 'failed',
      results: { payload: { exception_class_name: "<class 'SubtaskAbandonedError'>" } },
    });
    // A duplicate delivery after the outcome is in changes nothing.
    await job.handle(lucky, delivery(4));
    expect(await node.store.getOutcome(parent, 0)).toMatchObject({ attempts: 2 });
  });

  it('sends a subtask again when its message is lost, and still records its outcome once', async () => {
    const queue = store.queue(`lost_${Math.random().toString(36).slice(2, 8)}`);
    const signals = new OutcomeSignals();
    const dispatcher = new QueueDispatcher({
      queue,
      store: node.store,
      signals,
      pollIntervalMs: 50,
      lostAfterMs: 300,
    });
    const job = subtaskJob({
      nodeId: 'direct',
      store: node.store,
      registry: ModelRegistry.of(exampleModels),
      slots: new Semaphore(1),
      dispatcher,
      signals,
      activity: new NodeActivity(),
      logger: silentLogger,
      jobTimeoutMs: 10_000,
    });
    const parent = `l${Math.random().toString(36).slice(2, 8)}`;
    const subtasks = [checkTaskSpec({ model_class: 'NothingEtl' })];
    const outcomes = (async () => {
      const got = [];
      for await (const outcome of dispatcher.run(
        { parentTaskId: parent, subtasks, concurrency: 1 },
        AbortSignal.timeout(20_000),
      ))
        got.push(outcome);
      return got;
    })();
    const [lost] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 5 });
    await queue.ack([lost!.lease]); // gone, as if dead-lettered
    const [again] = await queue.receive({ maxMessages: 1, visibilitySeconds: 30, waitSeconds: 5 });
    expect(again?.id).not.toBe(lost!.id);
    expect(JSON.parse(again!.body)).toEqual(JSON.parse(lost!.body));
    const delivery = { attempt: 1, signal: new AbortController().signal } as unknown as JobContext;
    await job.handle(JSON.parse(again!.body), delivery);
    const got = await outcomes;
    expect(got.map((o) => [o.taskId, o.result.type])).toEqual([[`${parent}:0`, 'TaskComplete']]);
  });
});
