import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryClusterReadModel } from '../src/web/in-memory-cluster-read-model.ts';
import { createNodePages } from '../src/web/node-pages.ts';
import { failedParentView, nodeView, subtaskView, taskView } from './support/cluster-views.ts';
import { launchChromium } from './support/headless-chromium.ts';

// The node pages as a browser sees them: served by a real node:http server from an in-memory
// ClusterReadModel, driven in Debian's chromium.

const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;
const suffix = randomBytes(3).toString('hex');
const nodeId = `node-a-${suffix}`;
const parentId = `par${suffix}`;
const xssId = `xss${suffix}`;
const base = Date.UTC(2026, 0, 1, 12);

function clusterData(): InMemoryClusterReadModel {
  const model = new InMemoryClusterReadModel();
  model.putNode(nodeView({ nodeId, capacity: 4, available: 3, runningTaskIds: [`run${suffix}`] }));
  model.putTask(
    taskView({
      taskId: `run${suffix}`,
      modelClass: 'LongRunningEtl',
      status: 'running',
      nodeId,
      finishedAt: null,
      results: null,
    }),
  );
  // 28 older finished tasks, the failed parent and the hostile task: 30 on this node.
  for (let i = 0; i < 28; i++)
    model.putTask(
      taskView({
        taskId: `old${i}${suffix}`,
        nodeId,
        startedAt: base + i * 1000,
        finishedAt: base + i * 1000 + 10,
      }),
    );
  const subtaskIds = [0, 1, 2, 3].map((i) => `${parentId}:${i}`);
  model.putTask(
    failedParentView({
      taskId: parentId,
      nodeId,
      startedAt: base + 100_000,
      finishedAt: base + 101_000,
      failureOriginTaskId: `${parentId}:0`,
      subtasks: subtaskIds.map((taskId, i) =>
        subtaskView({
          taskId,
          status: i === 0 ? 'failed' : 'complete',
          nodeId: i % 2 === 0 ? 'node-b' : 'node-c',
          attempts: i === 0 ? 2 : 1,
        }),
      ),
    }),
  );
  for (const [i, taskId] of subtaskIds.entries())
    model.putTask(
      taskView({
        taskId,
        modelClass: 'PartialFailure',
        method: 'do_something',
        methodKwargs: { subtask_id: i },
        status: i === 0 ? 'failed' : 'complete',
        nodeId: i % 2 === 0 ? 'node-b' : 'node-c',
        parentTaskId: parentId,
      }),
    );
  model.putTask(
    taskView({
      taskId: xssId,
      modelClass: XSS,
      method: 'go',
      methodKwargs: { note: XSS },
      nodeId,
      startedAt: base + 200_000,
      finishedAt: base + 200_500,
    }),
  );
  return model;
}

let browser: Browser;
let server: Server;
let url: string;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchChromium();
  const pages = createNodePages(clusterData(), { nodeId });
  server = createServer((req, res) => {
    if (!pages(req, res)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"msg":"Not Found"}');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(async () => {
  context = await browser.newContext({ baseURL: url });
});

afterEach(async () => {
  await context.close();
});

describe('node pages in chromium', () => {
  it('/ shows the node info, its running tasks, and a bounded page of recent tasks', async () => {
    const page = await context.newPage();
    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(await page.title()).toBe('Fossa');
    const info = page.locator('#node-info');
    await expect
      .poll(() => info.locator('tr', { hasText: 'node_ident' }).locator('td').textContent())
      .toBe(nodeId);
    expect(await info.locator('tr', { hasText: 'max_concurrent_tasks' }).locator('td').textContent()).toBe(
      '4',
    );
    expect(
      await info.locator('tr', { hasText: 'available_processing_capacity' }).locator('td').textContent(),
    ).toBe('3');
    const running = page.locator('#running-tasks tbody tr');
    expect(await running.count()).toBe(1);
    expect(await running.first().locator('td').allTextContents()).toEqual([
      `run${suffix}`,
      'running',
      '2026-01-01 12:00:00 UTC',
      'LongRunningEtl',
      'go',
    ]);
    const recent = page.locator('#recent-tasks tbody tr');
    expect(await recent.count()).toBe(25);
    expect(await recent.first().locator('td').first().textContent()).toBe(xssId);
    // The stylesheet loads (CSP allows it from this origin).
    expect(await page.evaluate("getComputedStyle(document.querySelector('th')).backgroundColor")).toBe(
      'rgb(238, 241, 245)',
    );

    await page.getByRole('link', { name: 'Older tasks' }).click();
    await page.waitForURL(/cursor=/);
    expect(await page.locator('#recent-tasks tbody tr').count()).toBe(5);
    expect(await page.getByRole('link', { name: 'Older tasks' }).count()).toBe(0);
  });

  it('links go from / to a task, to a subtask, and back to the parent', async () => {
    const page = await context.newPage();
    await page.goto('/');
    await page.locator('#recent-tasks').getByRole('link', { name: parentId, exact: true }).click();
    await page.waitForURL(`${url}/task/${parentId}`);
    expect(await page.locator('#results-type').textContent()).toBe('TaskFailed');
    const subtasks = page.locator('#subtasks tbody tr');
    expect(await subtasks.count()).toBe(4);
    expect(await subtasks.nth(0).locator('td').allTextContents()).toEqual([
      `${parentId}:0`,
      'failed',
      'node-b',
      '2',
      '2026-01-01 12:00:01 UTC',
      '2026-01-01 12:00:02 UTC',
      'PartialFailure',
      'do_something',
    ]);
    expect(await subtasks.nth(1).locator('td').nth(2).textContent()).toBe('node-c');
    const origin = page.locator('#task tr', { hasText: 'failure_origin_task_id' }).getByRole('link');
    expect(await origin.textContent()).toBe(`${parentId}:0`);

    await subtasks
      .nth(1)
      .getByRole('link', { name: `${parentId}:1` })
      .click();
    await page.waitForURL(`${url}/task/${parentId}%3A1`);
    expect(await page.locator('#task tr', { hasText: 'method_kwargs' }).locator('pre').textContent()).toBe(
      '{\n  "subtask_id": 1\n}',
    );
    await page
      .locator('#task tr', { hasText: 'parent_task_id' })
      .getByRole('link', { name: parentId })
      .click();
    await page.waitForURL(`${url}/task/${parentId}`);
    expect(await page.locator('#subtasks tbody tr').count()).toBe(4);
  });

  it('shows a hostile model name and kwargs as text, running nothing', async () => {
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto('/');
    expect(await page.locator('#recent-tasks tbody tr').first().locator('td').nth(4).textContent()).toBe(XSS);
    await page.goto(`/task/${xssId}`);
    expect(await page.locator('#task tr', { hasText: 'model_class' }).locator('td').textContent()).toBe(XSS);
    expect(await page.locator('#task tr', { hasText: 'method_kwargs' }).locator('pre').textContent()).toBe(
      JSON.stringify({ note: XSS }, null, 2),
    );
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it('answers an unknown task with Fossa 404 text and a bad page size with 400', async () => {
    const page = await context.newPage();
    const missing = await page.goto('/task/nosuch');
    expect(missing?.status()).toBe(404);
    expect(await page.locator('body').textContent()).toBe('Task not found');
    const bad = await page.goto('/?limit=abc');
    expect(bad?.status()).toBe(400);
    expect(await page.locator('body').textContent()).toContain('limit must be a whole number');
    const foreign = await page.goto('/?cursor=Zm9v');
    expect(foreign?.status()).toBe(400);
    const other = await page.goto('/api/0.01/elsewhere');
    expect(other?.status()).toBe(404); // not a page: left to the node's API
  });
});
