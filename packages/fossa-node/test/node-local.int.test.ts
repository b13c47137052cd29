// The embedded default as processes: nodes on the local backend sharing one data directory
// (openLocalStore is safe across processes), the daemon refusing bad settings with exit 78,
// and a parent resumed by the other node after kill -9 of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  finished,
  killAll,
  type NodeProcess,
  spawnNode,
  startNode,
  submit,
  waitForTask,
} from './support/node-processes.ts';

const suffix = Math.random().toString(36).slice(2, 8);
let dataDir: string;
const nodes: NodeProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fossa-local-'));
  const started = await Promise.all(
    ['local-a', 'local-b'].map((name) =>
      startNode(name, {
        FOSSA_DATA_DIR: dataDir,
        FOSSA_NODE_ID: `${name}-${suffix}`,
        FOSSA_HEALTH_PORT: '0',
      }),
    ),
  );
  nodes.push(...started);
}, 120_000);

afterAll(async () => {
  killAll(nodes);
  await Promise.all(nodes.map((node) => node.exited));
  await rm(dataDir, { recursive: true, force: true });
});

describe('fossa nodes sharing a local data directory', () => {
  it('exits 78 naming every bad setting', async () => {
    const node = spawnNode('bad', { FOSSA_HTTP_PORT: 'http', FOSSA_CPU_TASK_RATIO: '0' });
    const [code] = await node.exited;
    expect(code).toBe(78);
    expect(node.output).toMatch(/FOSSA_HTTP_PORT/);
    expect(node.output).toMatch(/FOSSA_CPU_TASK_RATIO/);
  });

  it('runs partitioned tasks across both nodes, each answering for the other', async () => {
    const [a, b] = nodes;
    const { status, body } = await submit(a!, {
      model_class: 'PartitionedExampleEtl',
      model_construction_kwargs: { complexity: 1 },
    });
    expect(status).toBe(200);
    const done = await waitForTask(b!, body.task_id, finished);
    expect(done).toMatchObject({ status: 'complete', node_id: `local-a-${suffix}` });
    expect(done.stats.counters['subtasks.complete']).toBe(16);
    const page = await fetch(`${b!.url}/task/${body.task_id}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`${body.task_id}:15`);
    expect(html).toContain(`local-a-${suffix}`);
    expect((await fetch(`${a!.url}/task/nothere`)).status).toBe(404);
    expect((await fetch(`${a!.url}/`)).status).toBe(200);
  });

  it('serves health and the runner metrics', async () => {
    const healthUrl = /"healthUrl":"(http:\/\/[^"]+)"/.exec(nodes[0]!.output)?.[1];
    expect(healthUrl).toBeDefined();
    expect((await fetch(`${healthUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${healthUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${healthUrl}/metrics`)).text()).toMatch(/^spotjobs_/m);
  });

  it('resumes a parent on the other node after kill -9 of its own', async () => {
    const [a, b] = nodes;
    const { body } = await submit(a!, {
      model_class: 'StaggeredEtl',
      resolver_context: { requested_workers: 2 },
      model_construction_kwargs: { sleep_seconds: 0.5 },
    });
    await waitForTask(b!, `${body.task_id}:1`, finished);
    a!.child.kill('SIGKILL');
    await a!.exited;
    const done = await waitForTask(b!, body.task_id, finished, 90_000);
    expect(done).toMatchObject({ status: 'complete', node_id: `local-b-${suffix}` });
    expect(done.resumed).toBeGreaterThanOrEqual(1);
    expect(done.stats.counters['subtasks.complete']).toBe(12);
  }, 120_000);
});
