import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { addAbortSignal, PassThrough, pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { AbortedError, throwIfAborted } from '@spotjobs/core';
import { DatasetUsageError } from '../errors.ts';
import { type DatasetIoOptions, datasetIoError, storeFor } from './dataset-io.ts';
import type { DatasetFormat, DatasetLocation } from './dataset-uri.ts';

/** Where a writer's text goes: compressed when the dataset is gzip, stored only on `commit`. */
export interface ByteSink {
  /** Writes `text` (UTF-8), waiting while the destination is behind. */
  write(text: string): Promise<void>;
  /** Ends the data and makes it visible at the dataset's location; answers the bytes stored. */
  commit(): Promise<number>;
  /** Drops what was written; the location keeps what it had before. */
  abort(reason?: unknown): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<DatasetFormat, string>> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  csv: 'text/csv',
};

interface Destination {
  /** Resolves with the bytes stored once `body` has ended and been written. */
  readonly stored: Promise<number>;
  /** Makes the data visible (a rename for files; S3's put is already atomic). */
  readonly publish: () => Promise<void>;
  readonly discard: () => Promise<void>;
}

async function fileDestination(path: string, body: Readable): Promise<Destination> {
  await mkdir(dirname(path), { recursive: true });
  // A temporary sibling renamed into place: readers see the old file or the whole new one,
  // and a failed or aborted write leaves no half dataset behind.
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = createWriteStream(temp, { flags: 'wx', flush: true });
  return {
    stored: pipelineAsync(body, file).then(() => file.bytesWritten),
    publish: () => rename(temp, path),
    discard: () => rm(temp, { force: true }),
  };
}

/**
 * Opens a sink for writing the dataset at `location`: a local file (written to a temporary
 * file and renamed into place, directories created as needed) or an S3 object (one `put`
 * through the `BlobStore`, multipart for big bodies), gzip-compressed when the location says
 * so. Nothing is visible until `commit`; `abort`, an error or `signal` leave the location as
 * it was.
 *
 * @example
 * ```ts
 * const sink = await openByteSink(location, io, signal);
 * await sink.write('{"a":1}\n');
 * await sink.commit();
 * ```
 */
export async function openByteSink(
  location: DatasetLocation,
  io: DatasetIoOptions,
  signal: AbortSignal,
): Promise<ByteSink> {
  throwIfAborted(signal);
  const { storage } = location;
  const store = storage.kind === 's3' ? storeFor(location.uri, storage.bucket, io) : undefined;
  const head = new PassThrough();
  const body = location.compression === 'gzip' ? pipeline(head, createGzip(), () => {}) : head;
  let destination: Destination;
  try {
    destination =
      storage.kind === 's3'
        ? {
            stored: store!
              .put(
                storage.key,
                body,
                {
                  contentType:
                    location.compression === 'gzip' ? 'application/gzip' : CONTENT_TYPES[location.format],
                },
                signal,
              )
              .then((info) => info.size),
            publish: async () => {},
            discard: async () => {},
          }
        : await fileDestination(storage.path, body);
  } catch (err) {
    head.destroy();
    throw datasetIoError(location, err, signal);
  }
  addAbortSignal(signal, head);
  // Settles with the destination's failure, for racing against a write that waits for room.
  const failed = destination.stored.then(
    () => new Promise<never>(() => {}),
    (err: unknown) => Promise.reject(err),
  );
  failed.catch(() => {}); // observed here; each waiting write sees it through the race
  let state: 'open' | 'committing' | 'closed' = 'open';

  const ensureOpen = () => {
    if (state !== 'open') throw new DatasetUsageError(location.uri, 'the writer is already closed');
  };
  return {
    async write(text) {
      ensureOpen();
      if (head.write(text)) return;
      const stopWaiting = new AbortController();
      try {
        await Promise.race([once(head, 'drain', { signal: stopWaiting.signal }), failed]);
      } catch (err) {
        throw datasetIoError(location, err, signal);
      } finally {
        stopWaiting.abort();
      }
    },
    async commit() {
      ensureOpen();
      state = 'committing';
      head.end();
      try {
        const bytes = await destination.stored;
        await destination.publish();
        return bytes;
      } catch (err) {
        await destination.discard();
        throw datasetIoError(location, err, signal);
      } finally {
        state = 'closed';
      }
    },
    async abort(reason) {
      if (state === 'closed') return;
      state = 'closed';
      head.destroy(new AbortedError({ cause: reason }));
      await destination.stored.catch(() => {});
      await destination.discard();
    },
  };
}
