import type { BlobStore } from '@spotjobs/core';
import { AbortedError, NotFoundError } from '@spotjobs/core';
import { DatasetFormatError, DatasetUriError } from '../errors.ts';
import type { DatasetLocation } from './dataset-uri.ts';

/**
 * What the connectors need from the node: where S3 buckets are, where local files may be, and
 * limits. The node builds it once (S3BlobStore per bucket on AWS, FsBlobStore locally).
 */
export interface DatasetIoOptions {
  /**
   * The `BlobStore` that holds bucket `bucket`, or `undefined` when this node cannot reach it.
   * Without it, `s3://` datasets are refused.
   */
  readonly bucketStore?: (bucket: string) => BlobStore | undefined;
  /** Local paths must lie inside this directory (see `DatasetUriOptions.localRoot`). */
  readonly localRoot?: string;
  /** Longest NDJSON line or CSV record, in bytes (default 16 MiB). */
  readonly maxRecordBytes?: number;
  /** Largest JSON document read whole, in bytes after decompression (default 256 MiB). */
  readonly maxDocumentBytes?: number;
}

export const datasetIoDefaults = {
  maxRecordBytes: 16 * 1024 * 1024,
  maxDocumentBytes: 256 * 1024 * 1024,
} as const;

/** The store for bucket `bucket` of dataset `uri`, or `DatasetUriError` when the node has none. */
export function storeFor(uri: string, bucket: string, io: DatasetIoOptions): BlobStore {
  const store = io.bucketStore?.(bucket);
  if (!store)
    throw new DatasetUriError(uri, [`this node has no S3 store for bucket ${JSON.stringify(bucket)}`]);
  return store;
}

/**
 * The error a connector reports for `err`: an abort becomes `AbortedError`, a missing file
 * core's `NotFoundError` (as a missing object already is), a zlib failure a
 * `DatasetFormatError` (bad or truncated gzip). Anything else passes through.
 */
export function datasetIoError(
  location: DatasetLocation,
  err: unknown,
  signal: AbortSignal | undefined,
): unknown {
  if (signal?.aborted) return err instanceof AbortedError ? err : new AbortedError({ cause: signal.reason });
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return new NotFoundError(location.uri, { cause: err });
  if (code === 'EISDIR')
    return new DatasetUriError(location.uri, ['the path is a directory'], { cause: err });
  if (typeof code === 'string' && code.startsWith('Z_')) {
    const detail = err instanceof Error ? err.message : String(err);
    return new DatasetFormatError(location.uri, undefined, `not valid gzip (${detail})`, { cause: err });
  }
  return err;
}
