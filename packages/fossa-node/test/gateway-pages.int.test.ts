import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { recordingLogger } from '@spotjobs/core/testing';
import type { Browser, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcsTaskLister } from '../src/gateway/ecs-task-lister.ts';
import { type GatewayServer, startGatewayServer } from '../src/gateway/gateway-server.ts';
import { InMemoryClusterReadModel } from '../src/web/in-memory-cluster-read-model.ts';
import type { EcsTaskView } from '../src/web/read-model.ts';
import { nodeView, subtaskView, taskView } from './support/cluster-views.ts';
import { launchChromium } from './support/headless-chromium.ts';

// The gateway as a browser and a plain HTTP client see it: a real server on a loopback port,
// basic auth in front, an in-memory ClusterReadModel and a fake ECS listing behind.

const suffix = randomBytes(3).toString('hex');
const credentials = { username: 'fossa', password: `pw-${randomBytes(8).toString('hex')}` };
const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;
const parentId = `gp${suffix}`;
const ARN = 'arn:aws:ecs:eu-west-2:123456789012:task/fossa-cluster/';

function ecsTask(id: string, ip: string): EcsTaskView {
  return {
    taskArn: `${ARN}${id}`,
    lastStatus: 'RUNNING',
    group: 'service:fossa-service',
    startedAt: Date.UTC(2026, 0, 1),
    privateIpv4Address: ip,
    capacityProviderName: 'FARGATE_SPOT',
  };
}

function clusterData(): InMemoryClusterReadModel {
  const model = new InMemoryClusterReadModel();
  model.putNode(nodeView({ nodeId: 'node-a', address: '10.0.2.7:2345', runningTaskIds: [`run${suffix}`] }));
  model.putNode(nodeView({ nodeId: 'node-b', address: '10.0.2.8:2345', capacity: 2, available: 2 }));
  model.putNode(nodeView({ nodeId: XSS, address: '127.0.0.1:2345' }));
  model.putTask(
    taskView({
      taskId: `run${suffix}`,
      status: 'running',
      nodeId: 'node-a',
      finishedAt: null,
      results: null,
    }),
  );
  const subtaskIds = [0, 1, 2].map((i) => `${parentId}:${i}`);
  model.putTask(
    taskView({
      taskId: parentId,
      modelClass: 'SecondTimeLucky',
      nodeId: 'node-a',
      finishedAt: Date.UTC(2026, 0, 1, 13),
      subtasks: subtaskIds.map((taskId, i) =>
        subtaskView({
          taskId,
          modelClass: 'SecondTimeLucky',
          method: 'build_document',
          nodeId: i === 1 ? 'node-a' : 'node-b',
          attempts: 2,
        }),
      ),
    }),
  );
  for (const [i, taskId] of subtaskIds.entries())
    model.putTask(
      taskView({
        taskId,
        modelClass: 'SecondTimeLucky',
        method: 'build_document',
        nodeId: i === 1 ? 'node-a' : 'node-b',
        parentTaskId: parentId,
      }),
    );
  for (let i = 0; i < 40; i++)
    model.putTask(
      taskView({ taskId: `h${i}${suffix}`, nodeId: 'node-b', finishedAt: Date.UTC(2026, 0, 1, 12, 0, i) }),
    );
  return model;
}

const ecs: EcsTaskLister = {
  list: async () => [ecsTask('t-a', '10.0.2.7'), ecsTask('t-new', '10.0.2.99')],
};

let browser: Browser;
let gateway: GatewayServer;
const logger = recordingLogger();

beforeAll(async () => {
  browser = await launchChromium();
  gateway = await startGatewayServer({
    port: 0,
    credentials,
    readModel: clusterData(),
    ecs,
    logger,
    authFailures: { maxFailures: 20, windowMs: 60_000 },
  });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
});

/** A raw GET, so each test controls the Authorization header (and the source address). */
function get(path: string, headers: Record<string, string>, localAddress = '127.0.0.1') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(`${gateway.url}${path}`, { headers, localAddress }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

describe('gateway auth', () => {
  it('answers 401 with WWW-Authenticate without credentials and with wrong ones, on every path', async () => {
    for (const path of ['/', '/node/node-a', `/task/${parentId}`, '/static/fossa.css', '/nowhere']) {
      const none = await get(path, {});
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Basic realm="Login Required", charset="UTF-8"');
      expect(none.body).not.toContain(parentId);
    }
    const wrong = await get('/', { authorization: basic('fossa', `${credentials.password}x`) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('Basic');
    const right = await get('/', { authorization: basic(credentials.username, credentials.password) });
    expect(right.status).toBe(200);
    expect(right.body).toContain('node-a');
  });

  it('refuses a client with 429 after repeated failures, even with the right password', async () => {
    const from = '127.0.0.2'; // its own address, so other tests' clients are not affected
    for (let i = 0; i < 20; i++)
      expect((await get('/', { authorization: basic('fossa', `guess-${i}`) }, from)).status).toBe(401);
    const blocked = await get(
      '/',
      { authorization: basic(credentials.username, credentials.password) },
      from,
    );
    expect(blocked.status).toBe(429);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'gateway login failed', client: from }),
    );
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(
      (await get('/', { authorization: basic(credentials.username, credentials.password) })).status,
    ).toBe(200);
  });

  it('in chromium: no credentials → 401, wrong → 401, right → the page', async () => {
    // Chromium answers the 401 challenge with what the context has; with nothing acceptable it
    // gives up the navigation (ERR_INVALID_AUTH_CREDENTIALS), so the 401 is read off the wire.
    for (const httpCredentials of [undefined, { username: 'fossa', password: 'not-the-password' }]) {
      const context = await browser.newContext({
        baseURL: gateway.url,
        ...(httpCredentials ? { httpCredentials } : {}),
      });
      const page = await context.newPage();
      const challenged = page.waitForResponse(`${gateway.url}/`);
      const navigation = await page.goto('/').catch((err: unknown) => err);
      const response = await challenged;
      expect(response.status()).toBe(401);
      expect(response.headers()['www-authenticate']).toContain('Basic realm=');
      if (navigation instanceof Error) expect(navigation.message).toContain('ERR_INVALID_AUTH_CREDENTIALS');
      else expect((navigation as Response | null)?.status()).toBe(401);
      expect(await page.locator('#nodes').count()).toBe(0);
      await context.close();
    }
    const right = await browser.newContext({ baseURL: gateway.url, httpCredentials: credentials });
    const page = await right.newPage();
    expect((await page.goto('/'))?.status()).toBe(200);
    expect(await page.title()).toBe('Fossa cluster');
    expect(await page.locator('#nodes tbody tr').count()).toBe(4);
    await right.close();
  });
});

describe('gateway pages in chromium', () => {
  it('lists the nodes from heartbeats and ECS, and the cluster tasks with the node that ran each', async () => {
    const context = await browser.newContext({ baseURL: gateway.url, httpCredentials: credentials });
    const page = await context.newPage();
    await page.goto('/');
    const rows = page.locator('#nodes tbody tr');
    expect(await rows.count()).toBe(4);
    const table = await Promise.all((await rows.all()).map((row) => row.locator('td').allTextContents()));
    const byNode = new Map(table.map((cells) => [cells[0], cells]));
    expect(byNode.get('node-a')?.slice(1, 6)).toEqual(['both', '10.0.2.7:2345', '4', '3', '1']);
    expect(byNode.get('node-a')?.slice(7)).toEqual(['RUNNING', 'FARGATE_SPOT']);
    expect(byNode.get('node-b')?.[1]).toBe('heartbeat');
    expect(byNode.get('t-new')?.slice(1, 3)).toEqual(['ecs', '10.0.2.99:2345']);
    expect(byNode.get(XSS)?.[1]).toBe('heartbeat'); // a hostile node id shows as text
    expect(await page.evaluate('window.__xss')).toBeUndefined();

    expect(await page.locator('#running-tasks tbody tr').count()).toBe(1);
    const recent = page.locator('#recent-tasks tbody tr');
    expect(await recent.count()).toBe(25);
    expect(await recent.first().locator('td').allTextContents()).toEqual([
      parentId,
      'complete',
      '2026-01-01 12:00:00 UTC',
      '2026-01-01 13:00:00 UTC',
      'SecondTimeLucky',
      'go',
      'node-a',
    ]);
    // History is bounded: the rest is one page further, then no further.
    await page.getByRole('link', { name: 'Older tasks' }).click();
    await page.waitForURL(/cursor=/);
    expect(await page.locator('#recent-tasks tbody tr').count()).toBe(44 - 25); // the parent, its 3 subtasks and 40 more
    expect(await page.getByRole('link', { name: 'Older tasks' }).count()).toBe(0);
    await context.close();
  });

  it('links go from the cluster to a node, to a task, to the node that ran a subtask, and back', async () => {
    const context = await browser.newContext({ baseURL: gateway.url, httpCredentials: credentials });
    const page = await context.newPage();
    await page.goto('/');
    await page.locator('#nodes').getByRole('link', { name: 'node-a', exact: true }).click();
    await page.waitForURL(`${gateway.url}/node/node-a`);
    expect(await page.locator('#ecs-task tr', { hasText: 'task_arn' }).locator('td').textContent()).toBe(
      `${ARN}t-a`,
    );
    expect(await page.locator('#running-tasks tbody tr').count()).toBe(1);
    await page.locator('#recent-tasks').getByRole('link', { name: parentId, exact: true }).click();
    await page.waitForURL(`${gateway.url}/task/${parentId}`);
    const subtasks = page.locator('#subtasks tbody tr');
    expect(await subtasks.count()).toBe(3);
    expect(await subtasks.locator('td:nth-child(3)').allTextContents()).toEqual([
      'node-b',
      'node-a',
      'node-b',
    ]);
    expect(await subtasks.locator('td:nth-child(4)').allTextContents()).toEqual(['2', '2', '2']);
    await subtasks.nth(0).getByRole('link', { name: 'node-b' }).click();
    await page.waitForURL(`${gateway.url}/node/node-b`);
    expect(await page.locator('#recent-tasks tbody tr').count()).toBe(25);
    await page.goto(`/task/${parentId}`);
    await subtasks
      .nth(2)
      .getByRole('link', { name: `${parentId}:2` })
      .click();
    await page.waitForURL(`${gateway.url}/task/${parentId}%3A2`);
    await page.locator('#task tr', { hasText: 'parent_task_id' }).getByRole('link').click();
    await page.waitForURL(`${gateway.url}/task/${parentId}`);
    await page.getByRole('link', { name: 'node-a' }).first().click();
    await page.waitForURL(`${gateway.url}/node/node-a`);
    await page.getByRole('link', { name: 'All nodes' }).click();
    await page.waitForURL(`${gateway.url}/`);
    await context.close();
  });

  it('answers unknown nodes and tasks with 404, and shows the heartbeats when ECS fails', async () => {
    const context = await browser.newContext({ baseURL: gateway.url, httpCredentials: credentials });
    const page = await context.newPage();
    expect((await page.goto('/node/nobody'))?.status()).toBe(404);
    expect((await page.goto('/task/nothing'))?.status()).toBe(404);
    await context.close();

    const failing = await startGatewayServer({
      port: 0,
      credentials,
      readModel: clusterData(),
      ecs: {
        list: async () => {
          throw new Error('AccessDeniedException: not allowed to ListTasks');
        },
      },
      logger,
    });
    try {
      const res = await fetch(`${failing.url}/`, {
        headers: { authorization: basic(credentials.username, credentials.password) },
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('The ECS task listing failed: AccessDeniedException: not allowed to ListTasks');
      expect(body).toContain('>node-b<');
      expect(logger.lines).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'ECS task listing failed' }),
      );
    } finally {
      await failing.close();
    }
  });
});
