// The node daemon as deployed: a real process (bin/spotjobs-fossa-node) reading and writing
// s3:// datasets in the buckets FOSSA_DATASET_BUCKETS lists (fauxqs, through the SDK's own
// AWS_* variables), refusing other buckets and paths outside FOSSA_DATASET_ROOT; and taking its
// node id and address from ECS task metadata (a local HTTP server standing in for the endpoint).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureS3Bucket } from '@spotjobs/core/aws';
import { openLocalStore } from '@spotjobs/core/local';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TaskStore } from '../src/distribution/task-store.ts';
import { mergeClusterNodes } from '../src/gateway/cluster-nodes.ts';
import { localTableName } from '../src/node/fossa-daemon.ts';
import { TableReadModel } from '../src/node/table-read-model.ts';
import {
  api,
  finished,
  killAll,
  type NodeProcess,
  startNode,
  submit,
  waitForTask,
} from './support/node-processes.ts';

const suffix = randomUUID().slice(0, 8);
const s3Endpoint = inject('emulators').s3;
const client = new S3Client({ ...awsTestClientConfig, endpoint: s3Endpoint });
const bucket = `fossa-node-${suffix}`;
const unlisted = `fossa-unlisted-${suffix}`;
const nodes: NodeProcess[] = [];
const dirs: string[] = [];
const servers: Server[] = [];

// The SDK's own variables, as on ECS (there the role gives the credentials).
const awsEnv = {
  AWS_REGION: awsTestClientConfig.region,
  AWS_ACCESS_KEY_ID: awsTestClientConfig.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: awsTestClientConfig.credentials.secretAccessKey,
  AWS_ENDPOINT_URL_S3: s3Endpoint,
  FOSSA_S3_FORCE_PATH_STYLE: 'true',
};

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function objectText(key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

afterAll(async () => {
  killAll(nodes);
  await Promise.all(nodes.map((node) => node.exited));
  for (const server of servers) server.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  // fauxqs keeps objects in memory: give them back.
  await Promise.all(
    ['in.ndjson.gz', 'out.ndjson', 'back.ndjson'].map((key) =>
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
    ),
  );
  client.destroy();
});

describe('a node with FOSSA_DATASET_BUCKETS', () => {
  let node: NodeProcess;
  let root: string;

  beforeAll(async () => {
    await ensureS3Bucket(client, bucket);
    await ensureS3Bucket(client, unlisted);
    root = await tempDir('fossa-datasets-root-');
    node = await startNode('datasets', {
      ...awsEnv,
      FOSSA_DATA_DIR: await tempDir('fossa-datasets-data-'),
      FOSSA_NODE_ID: `datasets-${suffix}`,
      FOSSA_DATASET_BUCKETS: bucket,
      FOSSA_DATASET_ROOT: root,
    });
    nodes.push(node);
  }, 120_000);

  it('copies a gzipped NDJSON dataset to another object of the bucket', async () => {
    const rows = [
      { id: 1, city: 'Leeds' },
      { id: 2, city: 'Cork' },
      { id: 3, city: 'Łódź' },
    ];
    const ndjson = rows.map((row) => `${JSON.stringify(row)}\n`).join('');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'in.ndjson.gz', Body: gzipSync(ndjson) }));

    const { status, body } = await submit(node, {
      model_class: 'DatasetCopyEtl',
      model_construction_kwargs: {
        input: `s3://${bucket}/in.ndjson.gz`,
        output: `s3://${bucket}/out.ndjson`,
      },
    });
    expect(status).toBe(200);
    const task = await waitForTask(node, body.task_id, finished);

    expect(task).toMatchObject({ status: 'complete' });
    expect(task.stats.counters.rows).toBe(3);
    const copied = (await objectText('out.ndjson'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(copied).toEqual(rows);
    // The input really was gzip (the node decompressed it, not the emulator).
    const raw = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'in.ndjson.gz' }));
    expect(gunzipSync(await raw.Body!.transformToByteArray()).toString()).toBe(ndjson);
  });

  it('refuses a bucket it does not list, and a local path outside its root, naming them', async () => {
    const denied = await submit(node, {
      model_class: 'DatasetCopyEtl',
      model_construction_kwargs: {
        input: `s3://${bucket}/in.ndjson.gz`,
        output: `s3://${unlisted}/out.ndjson`,
      },
    });
    const outside = await submit(node, {
      model_class: 'DatasetCopyEtl',
      model_construction_kwargs: {
        input: `s3://${bucket}/in.ndjson.gz`,
        output: `${root}-elsewhere/out.ndjson`,
      },
    });

    const deniedTask = await waitForTask(node, denied.body.task_id, finished);
    expect(deniedTask.status).toBe('failed');
    expect(deniedTask.results.payload.traceback.join('\n')).toContain(
      `this node has no S3 store for bucket "${unlisted}"`,
    );
    const outsideTask = await waitForTask(node, outside.body.task_id, finished);
    expect(outsideTask.status).toBe('failed');
    expect(outsideTask.results.payload.traceback.join('\n')).toContain('the path is outside the local root');
  });

  it('reads and writes local datasets relative to its root', async () => {
    const { body } = await submit(node, {
      model_class: 'DatasetCopyEtl',
      model_construction_kwargs: { input: `s3://${bucket}/in.ndjson.gz`, output: 'copies/out.csv' },
    });
    const task = await waitForTask(node, body.task_id, finished);
    expect(task).toMatchObject({ status: 'complete' });
    const back = await submit(node, {
      model_class: 'DatasetCopyEtl',
      model_construction_kwargs: { input: 'copies/out.csv', output: `s3://${bucket}/back.ndjson` },
    });
    expect(await waitForTask(node, back.body.task_id, finished)).toMatchObject({ status: 'complete' });
    expect(
      (await objectText('back.ndjson'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { id: '1', city: 'Leeds' },
      { id: '2', city: 'Cork' },
      { id: '3', city: 'Łódź' },
    ]);
  });
});

/** A stand-in for ECS's task metadata endpoint, answering `/v4/<id>/task` with `document`. */
async function metadataEndpoint(document: unknown): Promise<{ uri: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url !== `/v4/${suffix}/task`) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/${suffix}`, requests };
}

describe('a node on ECS (ECS_CONTAINER_METADATA_URI_V4)', () => {
  const taskId = randomUUID().replaceAll('-', '');
  const taskArn = `arn:aws:ecs:eu-west-2:123456789012:task/fossa-${suffix}/${taskId}`;

  it("takes the task's id and private IP, so the gateway lists it once", async () => {
    const { uri, requests } = await metadataEndpoint({
      Cluster: `arn:aws:ecs:eu-west-2:123456789012:cluster/fossa-${suffix}`,
      TaskARN: taskArn,
      Family: 'fossa-node',
      Revision: '3',
      DesiredStatus: 'RUNNING',
      KnownStatus: 'RUNNING',
      LaunchType: 'FARGATE',
      Containers: [
        {
          Name: 'node',
          Networks: [
            { NetworkMode: 'awsvpc', IPv4Addresses: ['127.0.0.1'], IPv4SubnetCIDRBlock: '127.0.0.0/8' },
          ],
        },
      ],
    });
    const dataDir = await tempDir('fossa-ecs-data-');
    const node = await startNode('ecs', { FOSSA_DATA_DIR: dataDir, ECS_CONTAINER_METADATA_URI_V4: uri });
    nodes.push(node);

    expect(requests).toEqual([`/v4/${suffix}/task`]);
    const info = await api(node, 'node_info');
    expect(info.body.node_info.node_ident).toBe(taskId);
    const port = new URL(node.url).port;
    const store = await openLocalStore({ dataDir });
    try {
      const readModel = new TableReadModel(new TaskStore(store.table(localTableName)));
      const deadline = Date.now() + 30_000;
      let heartbeat = (await readModel.nodes(AbortSignal.timeout(10_000))).find((n) => n.nodeId === taskId);
      while (heartbeat === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        heartbeat = (await readModel.nodes(AbortSignal.timeout(10_000))).find((n) => n.nodeId === taskId);
      }
      expect(heartbeat?.address).toBe(`127.0.0.1:${port}`);
      const merged = mergeClusterNodes(
        [heartbeat!],
        [
          {
            taskArn,
            lastStatus: 'RUNNING',
            group: 'service:fossa-node',
            startedAt: null,
            privateIpv4Address: '127.0.0.1',
            capacityProviderName: 'FARGATE_SPOT',
          },
        ],
      );
      expect(merged.map((n) => [n.nodeId, n.source])).toEqual([[taskId, 'both']]);
    } finally {
      await store.close();
    }
  });

  it('falls back to its default identity, with a warning, when the metadata cannot be read', async () => {
    const { uri } = await metadataEndpoint({ TaskARN: 'not an arn', Containers: [] });
    const node = await startNode('ecs-broken', {
      FOSSA_DATA_DIR: await tempDir('fossa-ecs-broken-'),
      ECS_CONTAINER_METADATA_URI_V4: uri,
    });
    nodes.push(node);

    expect(node.output).toMatch(/"level":40[^\n]*cannot read ECS task metadata/);
    const info = await api(node, 'node_info');
    expect(info.body.node_info.node_ident).toMatch(new RegExp(`-${node.child.pid}$`));
  });
});
