// The "worker" of Web-Queue-Worker: a Runner with one job type. The Runner does the queue
// work (leases, heartbeats, acks, retries, dead letters); the handler only moves one image on.
import {
  type JobContext,
  type Logger,
  PermanentJobError,
  Runner,
  type Table,
  type TableItem,
} from '@spotjobs/core';
import type { ImageBackend } from './backend.ts';
import {
  type GreyscaleJob,
  greyscaleJob,
  type ImageRecord,
  imageKey,
  resultBlobKey,
} from './image-records.ts';
import { readPngHeader, toGreyscale } from './png.ts';

export interface WorkerOptions {
  readonly backend: Pick<ImageBackend, 'queue' | 'table' | 'blobs'>;
  readonly concurrency: number;
  readonly maxDimension: number;
  readonly logger: Logger;
  /** Stop on SIGTERM/SIGINT (daemons); default false. */
  readonly handleSignals?: boolean;
}

/** Deliveries before a failing job is dead-lettered (and its image marked failed). */
const MAX_ATTEMPTS = 5;

/**
 * Builds the worker's Runner (not yet running).
 *
 * @example
 * ```ts
 * const runner = await createWorker({ backend, concurrency: 4, maxDimension: 4096, logger, handleSignals: true });
 * await runner.run(); // until SIGTERM
 * ```
 */
export function createWorker(options: WorkerOptions): Promise<Runner> {
  return Runner.create({
    queue: options.backend.queue,
    concurrency: options.concurrency,
    maxAttempts: MAX_ATTEMPTS,
    logger: options.logger,
    handleSignals: options.handleSignals ?? false,
    jobs: {
      greyscale: { schema: greyscaleJob, handle: (job, ctx) => greyscale(job, ctx, options) },
    },
  });
}

async function greyscale(job: GreyscaleJob, ctx: JobContext, o: WorkerOptions): Promise<void> {
  const { table, blobs } = o.backend;
  const key = imageKey(job.id);
  const item = await table.get<ImageRecord>(key, ctx.signal);
  if (!item) throw new PermanentJobError(`image ${job.id} has no status item`);
  // A redelivery of finished work (its ack was lost): nothing left to do.
  if (item.data.status === 'done' || item.data.status === 'failed') return;

  // Every write below is conditional on the version just read: if another delivery of the
  // same job got there first, ours fails with ConditionFailedError, is retried, and then
  // finds the image done.
  const processing = await update(table, item, { status: 'processing' }, ctx.signal);
  try {
    const object = await blobs.get(item.data.original, ctx.signal);
    const original = Buffer.concat(await object.body.toArray({ signal: ctx.signal }));
    const grey = convert(original, o.maxDimension);
    await blobs.put(resultBlobKey(job.id), grey.png, { contentType: 'image/png' }, ctx.signal);
    await update(table, processing, { status: 'done', result: resultBlobKey(job.id) }, ctx.signal);
    ctx.logger.info({ id: job.id, bytes: grey.png.length }, 'image converted');
  } catch (err) {
    // The runner dead-letters permanent failures and a last failed attempt: record why, so
    // the client sees `failed` instead of `processing` for ever. An aborted job (shutdown,
    // lost lease) is only given back, so it stays as it is.
    const final = err instanceof PermanentJobError || ctx.attempt >= MAX_ATTEMPTS;
    if (final && !ctx.signal.aborted) {
      await update(table, processing, { status: 'failed', error: (err as Error).message }, ctx.signal);
    }
    throw err;
  }
}

/** Decodes and converts; an image that cannot be decoded will never succeed, so it is permanent. */
function convert(png: Buffer, maxDimension: number): ReturnType<typeof toGreyscale> {
  try {
    // The web front end checked this already; a message from elsewhere must not make us
    // decode a gigapixel image.
    const { width, height } = readPngHeader(png);
    if (width > maxDimension || height > maxDimension) throw new Error(`image is ${width}x${height}`);
    return toGreyscale(png);
  } catch (err) {
    throw new PermanentJobError(`corrupt or unsupported image: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes `change` into the status item, only if it is still at the version `item` was read at. */
function update(
  table: Table,
  item: TableItem<ImageRecord>,
  change: Partial<ImageRecord>,
  signal: AbortSignal,
): Promise<TableItem<ImageRecord>> {
  const data = { ...item.data, ...change, updatedAt: new Date().toISOString() };
  return table.put({ pk: item.pk, sk: item.sk }, data, { ifVersion: item.version }, signal);
}
