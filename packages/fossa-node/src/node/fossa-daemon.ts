import { hostname } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  type BlobStore,
  instrumentRunner,
  type Logger,
  MetricsRegistry,
  type Queue,
  runnerRunningCheck,
  startHealthServer,
  type Table,
  ValidationError,
} from '@spotjobs/core';
import { DynamoTable, S3BlobStore, SqsQueue } from '@spotjobs/core/aws';
import { openLocalStore } from '@spotjobs/core/local';
import type { DatasetIoOptions } from '../datasets/dataset-io.ts';
import { exampleModelRegistry } from '../examples/example-models.ts';
import { ModelRegistry } from '../model/model-registry.ts';
import type { NodeConfig } from '../node-config.ts';
import { createNodePages } from '../web/node-pages.ts';
import { type EcsTaskIdentity, readEcsTaskIdentity } from './ecs-task-identity.ts';
import { FossaNode } from './fossa-node.ts';
import { type ExtraRequestHandler, startNodeServer } from './node-server.ts';
import { TableReadModel } from './table-read-model.ts';

/** The local backend's queue name (Fossa's RabbitMQ queue was `fossa_task_queue`). */
export const localQueueName = 'fossa_task_queue';
/** The local backend's table name. */
export const localTableName = 'fossa';

export interface FossaDaemonDependencies {
  readonly logger: Logger;
  /** The allow-list; default the built-in example models (narrowed by `acceptedModelClasses`). */
  readonly registry?: ModelRegistry;
  /** Routes served before the API; default Fossa's web pages (`/`, `/task/<id>`) from the Table. */
  readonly extra?: ExtraRequestHandler;
}

export interface FossaDaemon {
  readonly node: FossaNode;
  /** The API's URL. */
  readonly url: string;
  /** Resolves once the node stopped (SIGTERM drains it) and everything is closed. */
  readonly done: Promise<void>;
}

/**
 * The node daemon's composition: the backend (local data directory, or SQS + DynamoDB), the
 * node with SIGTERM handling (parents handed on at once, subtasks drained and released), the
 * HTTP API with Fossa's web pages (read from the Table), and an optional health server with
 * the runner's metrics.
 *
 * @example
 * ```ts
 * const daemon = await startFossaDaemon(loadNodeConfig(), { logger });
 * await daemon.done;
 * ```
 */
export async function startFossaDaemon(
  config: NodeConfig,
  deps: FossaDaemonDependencies,
): Promise<FossaDaemon> {
  const { logger } = deps;
  const registry = deps.registry ?? acceptedExamples(config.acceptedModelClasses);
  const identity = await ecsIdentity(config, logger);
  const datasets = openDatasetIo(config);
  const backend = await openBackend(config);
  const node = await FossaNode.create({
    nodeId: identity?.taskId ?? config.nodeId,
    queue: backend.queue,
    table: backend.table,
    registry,
    capacity: config.capacity,
    logger,
    datasets: datasets.io,
    visibilityTimeoutSeconds: config.visibilitySeconds,
    subtaskTimeoutMs: config.subtaskTimeoutMs,
    parentLeaseMs: config.parentLeaseMs,
    resumeIntervalMs: config.resumeIntervalMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    outcomePollMs: config.outcomePollMs,
    pollWaitSeconds: config.pollWaitSeconds,
    shutdownGraceMs: config.shutdownGraceMs,
    handleSignals: true,
  });
  const pages = new AbortController();
  const extra =
    deps.extra ??
    createNodePages(new TableReadModel(node.store), { nodeId: node.nodeId, logger, signal: pages.signal });
  const server = await startNodeServer({ node, host: config.host, port: config.port, extra, logger });
  node.address = config.advertiseAddress ?? `${identity?.privateIpv4Address ?? hostname()}:${server.port}`;
  const metrics = new MetricsRegistry();
  instrumentRunner(node.runner, metrics, { queue: backend.queue.name });
  const health =
    config.healthPort !== undefined
      ? await startHealthServer({
          port: config.healthPort,
          host: '0.0.0.0',
          registry: metrics,
          checks: { runner: runnerRunningCheck(node.runner) },
          logger,
        })
      : undefined;
  logger.info(
    {
      nodeId: node.nodeId,
      url: server.url,
      healthUrl: health?.url,
      capacity: node.capacity,
      address: node.address,
      backend: config.backend.kind,
      datasetBuckets: config.datasetBuckets,
    },
    'fossa node ready',
  );
  const done = (async () => {
    try {
      await node.start();
    } finally {
      pages.abort();
      await server.close();
      await health?.close();
      await backend.close();
      datasets.close();
    }
  })();
  return { node, url: server.url, done };
}

/**
 * The built-in example models, or those of them named in `names` (an unknown name is a settings error).
 *
 * @example
 * ```ts
 * acceptedExamples(['NothingEtl', 'StaggeredEtl']).names(); // ['NothingEtl', 'StaggeredEtl']
 * ```
 */
export function acceptedExamples(names: readonly string[] | undefined): ModelRegistry {
  const all = exampleModelRegistry();
  if (!names) return all;
  const unknown = names.filter((name) => !all.has(name));
  if (unknown.length > 0) {
    throw new ValidationError('invalid fossa node settings', [
      `FOSSA_ACCEPTED_MODEL_CLASSES: unknown ${unknown.join(', ')} (known: ${all.names().join(', ')})`,
    ]);
  }
  return ModelRegistry.of(names.map((name) => all.resolve(name)));
}

/**
 * On ECS (and without an explicit node id or address), the task's id and private IP, so the
 * gateway matches this node's heartbeat with its ECS listing. Unreadable metadata is a warning:
 * the node runs with the default identity.
 */
async function ecsIdentity(config: NodeConfig, logger: Logger): Promise<EcsTaskIdentity | undefined> {
  if (config.ecsTaskMetadataUri === undefined) return undefined;
  try {
    const identity = await readEcsTaskIdentity(config.ecsTaskMetadataUri, new AbortController().signal);
    logger.info({ ...identity }, 'node identity from ECS task metadata');
    return identity;
  } catch (err) {
    logger.warn({ err }, 'cannot read ECS task metadata; using the default node id and address');
    return undefined;
  }
}

/**
 * What models' datasets may reach: one `S3BlobStore` per listed bucket over one shared client
 * (region, credentials and endpoint from the SDK's own variables), and the local root.
 */
function openDatasetIo(config: NodeConfig): { readonly io: DatasetIoOptions; close(): void } {
  const io: DatasetIoOptions = { ...(config.datasetRoot !== undefined && { localRoot: config.datasetRoot }) };
  if (config.datasetBuckets.length === 0) return { io, close() {} };
  const client = new S3Client({ forcePathStyle: config.s3ForcePathStyle });
  const stores = new Map<string, BlobStore>(
    config.datasetBuckets.map((bucket) => [bucket, new S3BlobStore({ client, bucket })]),
  );
  return {
    io: { ...io, bucketStore: (bucket) => stores.get(bucket) },
    close: () => client.destroy(),
  };
}

async function openBackend(
  config: NodeConfig,
): Promise<{ readonly queue: Queue; readonly table: Table; close(): Promise<void> }> {
  const backend = config.backend;
  if (backend.kind === 'local') {
    const store = await openLocalStore({ dataDir: backend.dataDir });
    return {
      queue: store.queue(localQueueName),
      table: store.table(localTableName),
      close: () => store.close(),
    };
  }
  // Region, credentials and endpoints come from the SDK's own environment variables.
  const sqs = new SQSClient({});
  const dynamodb = new DynamoDBClient({});
  return {
    queue: new SqsQueue({
      client: sqs,
      queueUrl: backend.queueUrl,
      deadLetterQueueUrl: backend.deadLetterQueueUrl,
    }),
    table: new DynamoTable({ client: dynamodb, tableName: backend.tableName }),
    async close() {
      sqs.destroy();
      dynamodb.destroy();
    },
  };
}
