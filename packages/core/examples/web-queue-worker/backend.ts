// The one place that knows which adapter family runs underneath: everything else sees only
// the Queue, Table and BlobStore ports.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { BlobStore, Queue, Table } from '@spotjobs/core';
import {
  DynamoTable,
  ensureDynamoTable,
  ensureS3Bucket,
  ensureSqsQueue,
  S3BlobStore,
  SqsQueue,
} from '@spotjobs/core/aws';
import { type BlobRequestHandler, createBlobRequestHandler, openLocalStore } from '@spotjobs/core/local';
import type { BackendConfig } from './config.ts';

/** Where presigned download links point, and (local family) who answers them. */
export interface DownloadLinks {
  /** The same objects as `ImageBackend.blobs`; its `presign` makes URLs clients can fetch. */
  readonly blobs: BlobStore;
  /** Serves those URLs under `/blobs/` of the web server; absent on S3, which serves its own. */
  readonly serve?: BlobRequestHandler;
}

export interface ImageBackend {
  readonly queue: Queue;
  /** Where the runner puts jobs it gives up on, each with its reason. */
  readonly deadLetterQueue: Queue;
  readonly table: Table;
  readonly blobs: BlobStore;
  /** Download links for a web server reachable at `publicUrl` (an origin). No I/O. */
  linksFor(publicUrl: string): DownloadLinks;
  close(): Promise<void>;
}

export interface OpenBackendOptions {
  /** AWS family: credentials instead of the SDK's default chain (tests pass the emulators' dummies). */
  readonly awsCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly signal?: AbortSignal;
}

const BLOB_NAMESPACE = 'images';

/**
 * Opens the ports of the configured family. On AWS it also creates the queue (and its
 * dead-letter queue), bucket and table when missing, which suits emulators and trying it
 * out; production resources belong in the deploy/ templates.
 *
 * @example
 * ```ts
 * const backend = await openBackend(loadConfig().backend);
 * await backend.queue.send([{ body: JSON.stringify({ type: 'greyscale', id }) }]);
 * await backend.close();
 * ```
 */
export async function openBackend(
  config: BackendConfig,
  options: OpenBackendOptions = {},
): Promise<ImageBackend> {
  if (config.kind === 'local') {
    const store = await openLocalStore({ dataDir: config.dataDir });
    const queue = store.queue(config.queue);
    return {
      queue,
      deadLetterQueue: store.queue(queue.deadLetterQueue),
      table: store.table(config.table),
      blobs: store.blobs({ namespace: BLOB_NAMESPACE }),
      linksFor(publicUrl) {
        const blobs = store.blobs({ namespace: BLOB_NAMESPACE, baseUrl: `${publicUrl}/blobs` });
        return { blobs, serve: createBlobRequestHandler(blobs) };
      },
      close: () => store.close(),
    };
  }

  const { region, endpoints, bucket } = config;
  const common = { region, ...(options.awsCredentials ? { credentials: options.awsCredentials } : {}) };
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
  // Emulators answer on one host for every bucket: path-style URLs.
  const s3 = new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: endpoints.s3 !== undefined });
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb });
  const close = async () => {
    for (const client of [sqs, s3, dynamodb]) client.destroy();
  };
  try {
    const [urls] = await Promise.all([
      ensureSqsQueue(sqs, config.queue, {}, options.signal),
      ensureS3Bucket(s3, bucket, options.signal),
      ensureDynamoTable(dynamodb, config.table, options.signal),
    ]);
    const blobs = new S3BlobStore({ client: s3, bucket });
    return {
      queue: new SqsQueue({ client: sqs, ...urls }),
      deadLetterQueue: new SqsQueue({ client: sqs, queueUrl: urls.deadLetterQueueUrl }),
      table: new DynamoTable({ client: dynamodb, tableName: config.table }),
      blobs,
      linksFor: () => ({ blobs }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
