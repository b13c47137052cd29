// The pages over real data: two node processes sharing a local data directory and the gateway
// process reading the same Table, driven in Debian's chromium. Tasks run for real
// (PartialFailure fails through its subtask 0 after a retry; LongRunningEtl stays running), so
// the tables, links and node columns come from the nodes' own records.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './support/gateway-process.ts';
import { launchChromium } from './support/headless-chromium.ts';
import {
  finished,
  killAll,
  type NodeProcess,
  startNode,
  submit,
  waitForTask,
} from './support/node-processes.ts';

const XSS = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">`;
const suffix = Math.random().toString(36).slice(2, 8);
const nodeIds = [`web-a-${suffix}`, `web-b-${suffix}`];
const password = `pw-${suffix}-long`;
let dataDir: string;
const nodes: NodeProcess[] = [];
let browser: Browser;
let failedId: string;
let runningId: string;
let hostileId: string;

beforeAll(async () => {
  browser = await launchChromium();
  dataDir = await mkdtemp(join(tmpdir(), 'fossa-web-'));
  nodes.push(
    ...(await Promise.all(
      nodeIds.map((id) => startNode(id, { FOSSA_DATA_DIR: dataDir, FOSSA_NODE_ID: id })),
    )),
  );
  const [a] = nodes;
  const failed = await submit(a!, { model_class: 'PartialFailure' });
  const running = await submit(a!, { model_class: 'LongRunningEtl' });
  const hostile = await submit(a!, { model_class: 'NothingEtl', resolver_context: { note: XSS } });
  for (const reply of [failed, running, hostile]) expect(reply.status).toBe(200);
  failedId = failed.body.task_id;
  runningId = running.body.task_id;
  hostileId = hostile.body.task_id;
  await waitForTask(a!, failedId, finished);
  await waitForTask(a!, hostileId, finished);
  await waitForTask(a!, runningId, (task) => task.status === 'running');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  killAll(nodes);
  await Promise.all(nodes.map((node) => node.exited));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('node pages over a real node', () => {
  it('/ lists the running and finished tasks; links reach the task, its failed subtask, and back', async () => {
    const context = await browser.newContext({ baseURL: nodes[0]!.url });
    const page = await context.newPage();
    await page.goto('/');
    expect(await page.locator('#node-info tr', { hasText: 'node_ident' }).locator('td').textContent()).toBe(
      nodeIds[0],
    );
    expect(
      await page
        .locator('#running-tasks tbody tr', { hasText: runningId })
        .locator('td')
        .nth(3)
        .textContent(),
    ).toBe('LongRunningEtl');
    const failedRow = page.locator('#recent-tasks tbody tr', { hasText: failedId });
    expect(await failedRow.locator('td').nth(1).textContent()).toBe('failed');

    await failedRow.getByRole('link', { name: failedId }).click();
    await page.waitForURL(`**/task/${failedId}`);
    expect(await page.locator('#results-type').textContent()).toBe('TaskFailed');
    const subtasks = page.locator('#subtasks tbody tr');
    expect(await subtasks.count()).toBe(4);
    for (const node of await subtasks.locator('td:nth-child(3)').allTextContents())
      expect(nodeIds).toContain(node);
    const first = await subtasks.nth(0).locator('td').allTextContents();
    expect(first.slice(1, 2)).toEqual(['failed']);
    expect(first[3]).toBe('2'); // retried once
    const origin = page.locator('#task tr', { hasText: 'failure_origin_task_id' }).getByRole('link');
    expect(await origin.textContent()).toBe(`${failedId}:0`);

    await origin.click();
    await page.waitForURL(`**/task/${failedId}%3A0`);
    expect(await page.locator('#task tr', { hasText: 'status' }).first().locator('td').textContent()).toBe(
      'failed',
    );
    expect(
      await page
        .locator('#results-payload tr', { hasText: 'exception_class_name' })
        .locator('td')
        .textContent(),
    ).toBe("<class 'ZeroDivisionError'>");
    await page
      .locator('#task tr', { hasText: 'parent_task_id' })
      .getByRole('link', { name: failedId })
      .click();
    await page.waitForURL(`**/task/${failedId}`);
    await context.close();
  });

  it('the other node answers for the same task, and hostile kwargs show as text', async () => {
    const context = await browser.newContext({ baseURL: nodes[1]!.url });
    const page = await context.newPage();
    expect((await page.goto(`/task/${failedId}`))?.status()).toBe(200);
    expect(await page.locator('#subtasks tbody tr').count()).toBe(4);
    await page.goto(`/task/${hostileId}`);
    expect(await page.locator('#task tr', { hasText: 'resolver_context' }).locator('pre').textContent()).toBe(
      JSON.stringify({ note: XSS }, null, 2),
    );
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await context.close();
  });
});

describe('the gateway over the same Table', () => {
  it('needs the password, lists both nodes, and shows which node ran each subtask', async () => {
    const { gateway, url } = await startGateway(dataDir, password);
    expect((await fetch(`${url}/`)).status).toBe(401);

    const context = await browser.newContext({
      baseURL: url,
      httpCredentials: { username: 'fossa', password },
    });
    const page = await context.newPage();
    expect((await page.goto('/'))?.status()).toBe(200);
    const listed = await page.locator('#nodes tbody tr td:first-child').allTextContents();
    expect(listed).toEqual(expect.arrayContaining(nodeIds));
    expect(
      await page
        .locator('#running-tasks tbody tr', { hasText: runningId })
        .locator('td')
        .last()
        .textContent(),
    ).toBe(nodeIds[0]);
    await page.locator('#recent-tasks').getByRole('link', { name: failedId, exact: true }).click();
    await page.waitForURL(`**/task/${failedId}`);
    const subtaskNode = page.locator('#subtasks tbody tr').nth(1).locator('td').nth(2);
    const ranOn = (await subtaskNode.textContent()) ?? '';
    expect(nodeIds).toContain(ranOn);
    await subtaskNode.getByRole('link').click();
    await page.waitForURL(`**/node/${ranOn}`);
    expect(await page.locator('#node-info tr', { hasText: 'node_ident' }).locator('td').textContent()).toBe(
      ranOn,
    );
    await context.close();

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toEqual([0, null]);
  });
});
