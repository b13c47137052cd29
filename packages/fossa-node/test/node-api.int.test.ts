// Fossa's HTTP contract on one embedded node (local backend in a temporary directory, real
// HTTP on a random loopback port): the shapes clients read, every error a bad request gets,
// and the node still answering afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleModelRegistry } from '../src/examples/example-models.ts';
import type { FossaNode } from '../src/node/fossa-node.ts';
import { type NodeServer, startNodeServer } from '../src/node/node-server.ts';
import { type LocalNode, startLocalNode } from './support/local-node.ts';

let local: LocalNode;
let node: FossaNode;
let server: NodeServer;
const capacity = 3;

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON replies
type Json = any;

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}/api/0.01/${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function postJson(body: unknown): Promise<{ status: number; body: Json }> {
  return api('task', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function waitForStatus(taskId: string, wanted: (status: string) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api(`task/${taskId}`);
    if (status === 200 && wanted(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(`task ${taskId} never reached the status (last ${JSON.stringify(body)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  local = await startLocalNode({
    nodeId: `api-${Math.random().toString(36).slice(2, 8)}`,
    registry: exampleModelRegistry(),
    capacity,
    pollWaitSeconds: 1,
  });
  node = local.node;
  server = await startNodeServer({ node, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
  await local?.stop();
});

describe('fossa node HTTP API', () => {
  it('answers the liveness probe', async () => {
    expect(await api('')).toEqual({ status: 200, body: { hello: 'world' } });
  });

  it('accepts a task, links to it, and reports it complete with results', async () => {
    const { status, body } = await postJson({ model_class: 'NothingEtl' });
    expect(status).toBe(200);
    expect(body.task_id).toMatch(/^[a-z]{5}$/);
    expect(body.governor_accepted_ident).toBe(`${node.nodeId}:${body.task_id}`);
    expect(body._metadata.links.task).toBe(`${server.url}/api/0.01/task/${body.task_id}`);
    const done = await waitForStatus(body.task_id, (s) => s !== 'running');
    expect(done).toMatchObject({
      model_class: 'NothingEtl',
      method: 'go',
      method_kwargs: {},
      resolver_context: {},
      model_construction_kwargs: {},
      partition_initialise_kwargs: {},
      on_completion_callback: null,
      task_id: body.task_id,
      status: 'complete',
      results: {
        type: 'TaskComplete',
        payload: { method_name: 'go', method_kwargs: {}, return_value: true },
      },
    });
    expect(done.started).toMatch(/GMT$/);
    expect(done.finished).toMatch(/GMT$/);
    const info = await api('node_info');
    expect(info.body.node_info).toMatchObject({ node_ident: node.nodeId, max_concurrent_tasks: capacity });
    expect(info.body.recent_completed_tasks.map((t: { task_id: string }) => t.task_id)).toContain(
      body.task_id,
    );
  });

  it('runs a partitioned task through the queue to complete', async () => {
    const { body } = await postJson({
      model_class: 'PartitionedExampleEtl',
      model_construction_kwargs: { complexity: 1 },
    });
    const done = await waitForStatus(body.task_id, (s) => s !== 'running');
    expect(done.status).toBe('complete');
    expect(done.stats.counters['subtasks.complete']).toBe(16);
    const subtask = await api(`task/${body.task_id}:3`);
    expect(subtask.body).toMatchObject({
      status: 'complete',
      parent_task_id: body.task_id,
      node_id: node.nodeId,
    });
  });

  it("gives Fossa's 400 for a missing model_class, and 412 for a class not accepted", async () => {
    expect(await postJson({ method: 'go' })).toEqual({
      status: 400,
      body: { error: { message: "'model_class' is a mandatory field" } },
    });
    expect(await postJson({ model_class: 'NotAModel' })).toEqual({
      status: 412,
      body: { error: { message: "Model class 'NotAModel' is not in the list of accepted classes." } },
    });
  });

  it('says clearly what is wrong with a bad body', async () => {
    const notJson = await api('task', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model_class":',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toMatch(/not valid JSON/);
    const form = await api('task', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'model_class=NothingEtl',
    });
    expect(form.status).toBe(415);
    expect(form.body.error.message).toMatch(/application\/json/);
    const notObject = await postJson(['NothingEtl']);
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.message).toMatch(/JSON object/);
    const wrongTypes = await postJson({
      model_class: 'NothingEtl',
      method_kwargs: 'x',
      resolver_context: [1],
    });
    expect(wrongTypes.status).toBe(400);
    expect(wrongTypes.body.error.message).toMatch(/'method_kwargs' must be an object/);
    const badName = await postJson({ model_class: 42 });
    expect(badName.status).toBe(400);
  });

  it('refuses huge kwargs: over the spec limit with 400, over the body limit with 413', async () => {
    const bigSpec = await postJson({
      model_class: 'NothingEtl',
      method_kwargs: { blob: 'x'.repeat(210_000) },
    });
    expect(bigSpec.status).toBe(400);
    expect(bigSpec.body.error.message).toMatch(/bytes of JSON/);
    const huge = await postJson({
      model_class: 'NothingEtl',
      method_kwargs: { blob: 'x'.repeat(2_000_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.msg).toBe('Request Entity Too Large');
  });

  it("answers Fossa's 404s and 405s", async () => {
    expect(await api('task/zzzzz')).toEqual({ status: 404, body: { message: 'task unknown' } });
    expect(await api('task/%E0%A4%A')).toMatchObject({ status: 400 });
    expect(await api('nope')).toEqual({ status: 404, body: { msg: 'Not Found' } });
    expect((await api('task', { method: 'GET' })).status).toBe(405);
    expect((await api('node_info', { method: 'DELETE' })).status).toBe(405);
  });

  it('answers 503 at full capacity and never holds more tasks than its slots', async () => {
    const accepted: string[] = [];
    const statuses = await Promise.all(
      Array.from({ length: capacity * 3 }, async () => {
        const { status, body } = await postJson({
          model_class: 'LongRunningEtl',
          model_construction_kwargs: { loops: 1, loop_seconds: 2 },
        });
        if (status === 200) accepted.push(body.task_id);
        else expect(body).toEqual({ error: { message: "Node at full capacity and can't accept new tasks" } });
        return status;
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([200, 503]));
    expect(accepted.length).toBeLessThanOrEqual(capacity);
    const info = await api('node_info');
    expect(info.body.running_tasks.length).toBeLessThanOrEqual(capacity);
    expect(info.body.node_info.available_processing_capacity).toBe(capacity - accepted.length);
    const running = await waitForStatus(accepted[0]!, (s) => s === 'running');
    expect(running.node_id).toBe(node.nodeId);
    for (const taskId of accepted)
      expect((await waitForStatus(taskId, (s) => s !== 'running')).status).toBe('complete');
    expect(await api('')).toEqual({ status: 200, body: { hello: 'world' } });
  });
});
