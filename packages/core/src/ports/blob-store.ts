import type { Readable } from 'node:stream';
import { ValidationError } from '../errors.ts';

/**
 * `BlobStore`: immutable-ish objects under string keys (S3 semantics).
 *
 * Semantics every adapter honours (checked by `blobStoreConformance`):
 * - `put` is atomic: a reader sees the old object or the new one, never a part. With
 *   `ifAbsent` it fails with `ConditionFailedError` when the key exists.
 * - `get` streams the body; a missing key rejects with `NotFoundError`. `head` answers
 *   `undefined` for a missing key. `delete` of a missing key succeeds.
 * - `list` returns keys in ascending byte order, at most `limit` per page, with a `cursor`
 *   while more remain.
 * - `presign` returns a URL that grants `method` on one key, without credentials, until it
 *   expires.
 * - Keys are validated by `assertBlobKey`: relative, no `.`/`..` segments, no empty segment,
 *   no control characters, valid UTF-8 (no unpaired surrogate), at most 1024 bytes. Put
 *   options, list options and presign options follow S3's rules (`blob-validation.ts`);
 *   metadata names come back lower-cased, as S3 stores them.
 *
 * @example
 * ```ts
 * await blobs.put('results/42.json', JSON.stringify(result), { contentType: 'application/json' });
 * const url = await blobs.presign('results/42.json', { method: 'GET', expiresInSeconds: 900 });
 * ```
 */
export interface BlobStore {
  put(key: string, body: BlobBody, options?: PutBlobOptions, signal?: AbortSignal): Promise<BlobInfo>;
  get(key: string, signal?: AbortSignal): Promise<BlobObject>;
  head(key: string, signal?: AbortSignal): Promise<BlobInfo | undefined>;
  delete(key: string, signal?: AbortSignal): Promise<void>;
  list(options?: ListBlobsOptions, signal?: AbortSignal): Promise<BlobPage>;
  presign(key: string, options: PresignOptions, signal?: AbortSignal): Promise<string>;
}

export type BlobBody = string | Uint8Array | Readable;

export interface PutBlobOptions {
  readonly ifAbsent?: boolean;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface BlobInfo {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface BlobObject {
  readonly info: BlobInfo;
  readonly body: Readable;
}

export interface ListBlobsOptions {
  readonly prefix?: string;
  /** Page size, 1–1000 (default 1000). */
  readonly limit?: number;
  readonly cursor?: string;
}

export interface BlobPage {
  /** `list` fills `key`, `size`, `etag` and `lastModified`; metadata may be empty. */
  readonly items: BlobInfo[];
  readonly cursor?: string;
}

export interface PresignOptions {
  readonly method: 'GET' | 'PUT';
  /** 1–604 800 (S3's limit of 7 days). */
  readonly expiresInSeconds: number;
}

/** S3 limits that every adapter enforces alike, so code that runs locally runs on AWS. */
export const BlobLimits = {
  maxKeyBytes: 1024,
  /** User metadata: the UTF-8 bytes of every name and value together. */
  maxMetadataBytes: 2048,
  maxPresignSeconds: 604_800,
  maxListLimit: 1000,
} as const;

/** What is wrong with `key` as an object key, or `undefined` when it is safe. */
export function blobKeyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'key is empty';
  if (Buffer.byteLength(key) > BlobLimits.maxKeyBytes)
    return `key is longer than ${BlobLimits.maxKeyBytes} bytes`;
  // S3 keys are UTF-8; an unpaired surrogate has no UTF-8 form (Node would write U+FFFD, so
  // two different keys would name one object).
  if (!key.isWellFormed()) return 'key contains an unpaired surrogate';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'key contains a control character or backslash';
  if (key.startsWith('/')) return 'key starts with /';
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return `key has an empty, . or .. segment`;
  }
  return undefined;
}

/**
 * Throws `ValidationError` unless `key` is a safe object key. Adapters call it on every key,
 * so a path-traversal or encoded-slash trick never reaches a file system or a bucket.
 */
export function assertBlobKey(key: string): void {
  const problem = blobKeyProblem(key);
  if (problem) throw new ValidationError(`invalid blob key ${JSON.stringify(key)}`, [problem]);
}
