import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLocalStore } from '@spotjobs/core/local';
import { startJsonLogProcess } from '@spotjobs/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../src/distribution/task-records.ts';
import { TaskStore } from '../src/distribution/task-store.ts';
import { localTableName } from '../src/node/fossa-daemon.ts';
import { gatewayMain, startGateway } from './support/gateway-process.ts';
import { taskRecord } from './support/task-records.ts';

// The gateway as a process, as it is deployed: settings from the environment, the nodes' Table
// read from a shared local data directory, SIGTERM to stop, 78 for bad settings.

const launcher = fileURLToPath(new URL('../bin/spotjobs-fossa-gateway', import.meta.url));
const password = 'process-test-password';
const authorization = `Basic ${Buffer.from(`fossa:${password}`).toString('base64')}`;

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fossa-gateway-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function finishedTask(taskId: string, nodeId: string, at: number): TaskRecord {
  return taskRecord({
    task_id: taskId,
    status: 'complete',
    node_id: nodeId,
    started: at - 100,
    finished: at,
    results: { type: 'TaskComplete', payload: { method_name: 'go', method_kwargs: {}, return_value: true } },
  });
}

describe('spotjobs-fossa-gateway', () => {
  it('serves the nodes and tasks the nodes wrote to a shared data directory, and stops on SIGTERM', async () => {
    const store = await openLocalStore({ dataDir });
    const tasks = new TaskStore(store.table(localTableName));
    const now = Date.now();
    await tasks.heartbeat({
      node_id: 'node-p',
      address: '127.0.0.1:2345',
      capacity: 4,
      available: 4,
      running_task_ids: [],
      last_seen: now,
    });
    const record = finishedTask('pqrst', 'node-p', now);
    await tasks.createTask(record);
    await tasks.listFinished(record, undefined);
    await store.close();

    const { gateway, url } = await startGateway(dataDir, password);
    expect((await fetch(`${url}/`)).status).toBe(401);
    const page = await fetch(`${url}/`, { headers: { authorization } });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<a href="/node/node-p">node-p</a>');
    expect(body).toContain('<a href="/task/pqrst">pqrst</a>');
    const task = await fetch(`${url}/task/pqrst`, { headers: { authorization } });
    expect(task.status).toBe(200);
    expect(await task.text()).toContain('<h3 id="results-type">TaskComplete</h3>');

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toEqual([0, null]);
  });

  it('exits 78 naming every bad setting, through the launcher too', async () => {
    const direct = startJsonLogProcess(gatewayMain, { FOSSA_GATEWAY_PASSWORD: 'short' });
    expect((await direct.exited)[0]).toBe(78);
    expect(direct.stderr()).toContain('FOSSA_GATEWAY_PASSWORD is required, at least 8 characters');
    expect(direct.stderr()).toContain('FOSSA_DATA_DIR or FOSSA_TABLE_NAME is required');

    const child = spawn('/bin/sh', [launcher], {
      env: {
        PATH: process.env.PATH ?? '',
        SPOTJOBS_NODE: process.execPath,
        NODE_NO_WARNINGS: '1',
        FOSSA_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(78);
    expect(stderr).toContain(
      'spotjobs-fossa-gateway: invalid settings:\n  FOSSA_GATEWAY_PASSWORD is required',
    );
  });
});
