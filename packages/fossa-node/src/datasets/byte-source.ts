import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { addAbortSignal, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { NotFoundError, throwIfAborted } from '@spotjobs/core';
import { type DatasetIoOptions, datasetIoError, storeFor } from './dataset-io.ts';
import type { DatasetLocation } from './dataset-uri.ts';

async function openRaw(
  location: DatasetLocation,
  io: DatasetIoOptions,
  signal: AbortSignal,
): Promise<Readable> {
  const { storage } = location;
  if (storage.kind === 'file') return createReadStream(storage.path);
  const { body } = await storeFor(location.uri, storage.bucket, io).get(storage.key, signal);
  return body;
}

/**
 * The dataset's bytes, decompressed when it is gzip, as a stream of Buffers. Stops (and
 * closes the file or the S3 response) when the consumer stops early, when `signal` aborts
 * (`AbortedError`) or on the first error: a missing dataset is `NotFoundError`, bad gzip a
 * `DatasetFormatError`.
 *
 * @example
 * ```ts
 * for await (const chunk of readDatasetBytes(location, io, signal)) hash.update(chunk);
 * ```
 */
export async function* readDatasetBytes(
  location: DatasetLocation,
  io: DatasetIoOptions,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  throwIfAborted(signal);
  let raw: Readable;
  try {
    raw = await openRaw(location, io, signal);
  } catch (err) {
    throw datasetIoError(location, err, signal);
  }
  // pipeline() destroys every stage when any of them fails or the last one is destroyed, so
  // the error of the first failing stage is the one the loop below sees.
  const decoded = location.compression === 'gzip' ? pipeline(raw, createGunzip(), () => {}) : raw;
  addAbortSignal(signal, decoded);
  try {
    for await (const chunk of decoded)
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
  } catch (err) {
    throw datasetIoError(location, err, signal);
  } finally {
    decoded.destroy();
    raw.destroy();
  }
}

/**
 * Whether the dataset exists (a file, or an object in its bucket).
 *
 * @example
 * ```ts
 * if (!(await datasetExists(location, io, signal))) return 'nothing to do';
 * ```
 */
export async function datasetExists(
  location: DatasetLocation,
  io: DatasetIoOptions,
  signal: AbortSignal,
): Promise<boolean> {
  throwIfAborted(signal);
  const { storage } = location;
  try {
    if (storage.kind === 's3')
      return (await storeFor(location.uri, storage.bucket, io).head(storage.key, signal)) !== undefined;
    return (await stat(storage.path)).isFile();
  } catch (err) {
    const translated = datasetIoError(location, err, signal);
    if (translated instanceof NotFoundError) return false;
    throw translated;
  }
}
