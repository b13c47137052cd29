// Fossa's integration contract on three node processes (the real daemon, started through its
// launcher) sharing one SQS queue (fauxqs) and one DynamoDB table (dynalite): tasks complete,
// running tasks show as running, failures propagate with their origin, a failed subtask is
// retried once, capacity holds under a burst, and a parent survives its node's SIGTERM and
// kill -9 without any subtask result counted twice.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ensureDynamoTable, ensureSqsQueue } from '@spotjobs/core/aws';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  api,
  finished,
  type Json,
  killAll,
  type NodeProcess,
  startNode,
  submit,
  waitForTask,
} from './support/node-processes.ts';

const emulators = inject('emulators');
const suffix = Math.random().toString(36).slice(2, 8);
const sqs = new SQSClient({ ...awsTestClientConfig, endpoint: emulators.sqs });
/** node-a, node-b, node-c. */
const nodes: NodeProcess[] = [];
let queueUrl = '';
let capacity = 0; // CPUs × 1.5, read back from node_info

beforeAll(async () => {
  const dynamodb = new DynamoDBClient({ ...awsTestClientConfig, endpoint: emulators.dynamodb });
  const tableName = `fossa-${suffix}`;
  await ensureDynamoTable(dynamodb, tableName);
  dynamodb.destroy();
  const queue = await ensureSqsQueue(sqs, `fossa-${suffix}`, { visibilitySeconds: 6 });
  queueUrl = queue.queueUrl;
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SQS: emulators.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodb,
    FOSSA_QUEUE_URL: queue.queueUrl,
    FOSSA_DEAD_LETTER_QUEUE_URL: queue.deadLetterQueueUrl,
    FOSSA_TABLE_NAME: tableName,
  };
  const started = await Promise.all(
    ['node-a', 'node-b', 'node-c'].map((name) =>
      startNode(name, { ...env, FOSSA_NODE_ID: `${name}-${suffix}` }),
    ),
  );
  nodes.push(...started);
  capacity = (await api(nodes[0]!, 'node_info')).body.node_info.max_concurrent_tasks;
}, 120_000);

afterAll(async () => {
  killAll(nodes);
  sqs.destroy();
});

describe('three fossa nodes on one queue and table', () => {
  it('runs a task to complete, and any node answers for it', async () => {
    const [a, b] = nodes;
    const { status, body } = await submit(a!, { model_class: 'NothingEtl' });
    expect(status).toBe(200);
    const done = await waitForTask(b!, body.task_id, finished);
    expect(done).toMatchObject({ status: 'complete', node_id: `node-a-${suffix}` });
    expect(done.finished).toMatch(/GMT$/);
  });

  it('shows a long task as running before it completes', async () => {
    const [, b, c] = nodes;
    const { body } = await submit(b!, {
      model_class: 'LongRunningEtl',
      model_construction_kwargs: { loops: 1, loop_seconds: 3 },
    });
    const running = await waitForTask(c!, body.task_id, (task) => task.status === 'running');
    expect(running.started).toMatch(/GMT$/);
    expect(running.finished).toBeUndefined();
    expect((await api(b!, 'node_info')).body.running_tasks.map((t: Json) => t.task_id)).toContain(
      body.task_id,
    );
    expect(await waitForTask(c!, body.task_id, finished)).toMatchObject({ status: 'complete' });
  });

  it('fails a parent whose subtask fails twice, naming the subtask as origin', async () => {
    const [a, , c] = nodes;
    const { body } = await submit(a!, { model_class: 'PartialFailure' });
    const failed = await waitForTask(c!, body.task_id, finished);
    expect(failed.status).toBe('failed');
    expect(failed.results.type).toBe('TaskFailed');
    const origin = failed.results.payload.failure_origin_task_id;
    expect(origin).toBe(`${body.task_id}:0`);
    const subtask = await waitForTask(c!, origin, finished);
    expect(subtask.status).toBe('failed');
    expect(subtask.attempt).toBe(2);
    expect(subtask.results.payload.exception_class_name).toBe("<class 'ZeroDivisionError'>");
  });

  it('retries a failed subtask once, and then it succeeds (SecondTimeLucky)', async () => {
    const [, b] = nodes;
    const { body } = await submit(b!, { model_class: 'SecondTimeLucky' });
    const done = await waitForTask(b!, body.task_id, finished);
    expect(done.status).toBe('complete');
    expect(done.stats.counters['subtasks.complete']).toBe(3);
    for (const index of [0, 1, 2]) {
      expect(await waitForTask(b!, `${body.task_id}:${index}`, finished)).toMatchObject({
        status: 'complete',
        attempt: 2,
      });
    }
  });

  it('records a subtask of a class no node accepts as failed, and every node keeps running', async () => {
    const parent = `zz${suffix}`;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          task_id: `${parent}:0`,
          parent_task_id: parent,
          index: 0,
          spec: { model_class: 'NotAModel' },
        }),
      }),
    );
    const failed = await waitForTask(nodes[0]!, `${parent}:0`, finished);
    expect(failed.status).toBe('failed');
    expect(failed.results.payload.exception_class_name).toBe("<class 'UnknownModelClassError'>");
    expect(failed.results.payload.traceback[0]).toMatch(/not in the list of accepted classes/);
    for (const node of nodes) expect(await api(node, '')).toEqual({ status: 200, body: { hello: 'world' } });
  });

  it('never accepts more tasks than its capacity under a burst (only 200 or 503)', async () => {
    const [, , c] = nodes;
    const replies = await Promise.all(
      Array.from({ length: capacity * 4 }, () =>
        submit(c!, {
          model_class: 'LongRunningEtl',
          model_construction_kwargs: { loops: 1, loop_seconds: 3 },
        }),
      ),
    );
    const statuses = new Set(replies.map((r) => r.status));
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
    const accepted = replies.filter((r) => r.status === 200);
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThanOrEqual(capacity);
    expect(replies.filter((r) => r.status === 503)[0]?.body).toEqual({
      error: { message: "Node at full capacity and can't accept new tasks" },
    });
    const info = (await api(c!, 'node_info')).body;
    expect(info.running_tasks.length).toBeLessThanOrEqual(capacity);
    for (const reply of accepted)
      expect((await waitForTask(c!, reply.body.task_id, finished)).status).toBe('complete');
  });

  it("resumes a parent on another node when its node gets SIGTERM (Fargate Spot's notice)", async () => {
    const [a, b] = nodes;
    const { body } = await submit(b!, {
      model_class: 'StaggeredEtl',
      resolver_context: { requested_workers: 2 },
      model_construction_kwargs: { sleep_seconds: 0.5 },
    });
    await waitForTask(a!, `${body.task_id}:1`, finished);
    b!.child.kill('SIGTERM');
    const [code] = await b!.exited;
    expect(code).toBe(0);
    const done = await waitForTask(a!, body.task_id, finished);
    expect(done.status).toBe('complete');
    expect(done.node_id).not.toBe(`node-b-${suffix}`);
    expect(done.resumed).toBeGreaterThanOrEqual(1);
    expect(done.stats.counters['subtasks.complete']).toBe(12);
  });

  it('resumes a parent after kill -9 of its node; each subtask result is counted once', async () => {
    const [a, , c] = nodes;
    const { body } = await submit(a!, {
      model_class: 'StaggeredEtl',
      resolver_context: { requested_workers: 2 },
      model_construction_kwargs: { sleep_seconds: 0.5 },
    });
    const before = await Promise.all([0, 1].map((i) => waitForTask(c!, `${body.task_id}:${i}`, finished)));
    a!.child.kill('SIGKILL');
    await a!.exited;
    const done = await waitForTask(c!, body.task_id, finished, 90_000);
    expect(done.status).toBe('complete');
    expect(done.node_id).toBe(`node-c-${suffix}`);
    expect(done.resumed).toBeGreaterThanOrEqual(1);
    expect(done.stats.counters['subtasks.complete']).toBe(12);
    // Completed before the kill: replayed from the Table, not run again.
    for (const [index, earlier] of before.entries()) {
      expect(await api(c!, `task/${body.task_id}:${index}`)).toMatchObject({
        body: { finished: earlier.finished, attempt: earlier.attempt, node_id: earlier.node_id },
      });
    }
    for (let index = 0; index < 12; index++) {
      expect((await waitForTask(c!, `${body.task_id}:${index}`, finished)).status).toBe('complete');
    }
  }, 120_000);
});
