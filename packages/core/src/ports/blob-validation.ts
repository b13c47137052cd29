import { Readable } from 'node:stream';
import type { BlobBody, ListBlobsOptions, PresignOptions, PutBlobOptions } from './blob-store.ts';
import { assertBlobKey, BlobLimits, blobKeyProblem } from './blob-store.ts';
import { assertShape, integerProblem, throwIfProblems } from './validation.ts';

// What every `BlobStore` adapter accepts, by S3's rules, so that an object that works on the
// file system works in a bucket. User metadata travels as `x-amz-meta-<name>` HTTP headers:
// names are header tokens that S3 stores lower-cased, values are what a header carries intact.

const METADATA_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/; // an HTTP header token
// Printable ASCII: S3 hands back anything else RFC 2047-encoded, and fauxqs mangles it.
const HEADER_VALUE = /^[\t\u0020-\u007e]*$/;

/** Put options after `checkBlobPut`: metadata names lower-cased, as S3 stores them. */
export interface CheckedPutOptions {
  readonly ifAbsent: boolean;
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** List options after `checkBlobList`, with the defaults filled in. */
export interface CheckedListOptions {
  readonly prefix: string;
  readonly limit: number;
  readonly cursor?: string;
}

function bodyProblem(body: BlobBody): string | undefined {
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return undefined;
  return 'body must be a string, a Uint8Array or a Readable';
}

// `lowerCased` is a Map: a name such as `__proto__` or `constructor` is data here, not a key of Object.
function metadataProblems(metadata: unknown, lowerCased: Map<string, string>): string[] {
  if (metadata === undefined) return [];
  if (typeof metadata !== 'object' || metadata === null) return ['metadata must be an object of strings'];
  const problems: string[] = [];
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name))
      problems.push(`metadata name ${JSON.stringify(name)} is not a header token`);
    const lower = name.toLowerCase();
    if (lowerCased.has(lower))
      problems.push(`metadata name ${JSON.stringify(name)} is given twice, in any case`);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      problems.push(`metadata ${JSON.stringify(name)} must be printable ASCII`);
    } else {
      bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      lowerCased.set(lower, value);
    }
  }
  if (bytes > BlobLimits.maxMetadataBytes) {
    problems.push(`metadata is ${bytes} bytes, more than ${BlobLimits.maxMetadataBytes}`);
  }
  return problems;
}

/**
 * Validates a `put`: the key, the body's type, `ifAbsent`, the content type and the metadata
 * (header-token names, printable ASCII values, at most 2 KB together). Answers the options
 * with metadata names lower-cased, which is what the object will report.
 *
 * @example
 * ```ts
 * const checked = checkBlobPut('a.txt', 'hi', { metadata: { 'Build-Id': '42' } });
 * checked.metadata; // { 'build-id': '42' }
 * ```
 */
export function checkBlobPut(key: string, body: BlobBody, options: PutBlobOptions): CheckedPutOptions {
  assertBlobKey(key);
  assertShape('invalid put options', 'options', options, 'object');
  const { ifAbsent, contentType } = options;
  const metadata = new Map<string, string>();
  throwIfProblems('invalid put', [
    bodyProblem(body),
    ifAbsent === undefined || typeof ifAbsent === 'boolean' ? undefined : 'ifAbsent must be a boolean',
    contentType === undefined ||
    (typeof contentType === 'string' && contentType !== '' && HEADER_VALUE.test(contentType))
      ? undefined
      : 'contentType must be a non-empty printable ASCII string',
    ...metadataProblems(options.metadata, metadata),
  ]);
  return {
    ifAbsent: ifAbsent === true,
    ...(contentType === undefined ? {} : { contentType }),
    metadata: Object.fromEntries(metadata),
  };
}

/**
 * Validates a `presign`: the key, `method` GET or PUT, `expiresInSeconds` 1–604 800.
 *
 * @example
 * ```ts
 * checkBlobPresign('a.txt', { method: 'GET', expiresInSeconds: 900 });
 * ```
 */
export function checkBlobPresign(key: string, options: PresignOptions): void {
  assertBlobKey(key);
  throwIfProblems('invalid presign options', [
    options?.method === 'GET' || options?.method === 'PUT' ? undefined : 'method must be GET or PUT',
    integerProblem('expiresInSeconds', options?.expiresInSeconds, 1, BlobLimits.maxPresignSeconds),
  ]);
}

/** A problem when no valid key could start with `prefix` (so it can only be a mistake). */
function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return 'prefix must be a string';
  if (prefix === '') return undefined;
  // A prefix may end mid-segment or with `/`: test a key that extends it, or at the length
  // limit the one key that could match, the prefix itself.
  const probe = Buffer.byteLength(prefix) < BlobLimits.maxKeyBytes ? `${prefix}x` : prefix;
  const problem = blobKeyProblem(probe);
  return problem && `prefix ${JSON.stringify(prefix)} cannot start a valid key: ${problem}`;
}

/**
 * Validates a `list`: a prefix some valid key could start with, `limit` 1–1000 (default
 * 1000) and a non-empty cursor. Whether the cursor is one this store made is the adapter's
 * to check.
 *
 * @example
 * ```ts
 * const { prefix, limit, cursor } = checkBlobList({ prefix: 'logs/', limit: 100 });
 * ```
 */
export function checkBlobList(options: ListBlobsOptions): CheckedListOptions {
  assertShape('invalid list options', 'options', options, 'object');
  const { prefix = '', limit = BlobLimits.maxListLimit, cursor } = options;
  throwIfProblems('invalid list options', [
    prefixProblem(prefix),
    integerProblem('limit', limit, 1, BlobLimits.maxListLimit),
    cursor === undefined || (typeof cursor === 'string' && cursor !== '')
      ? undefined
      : 'cursor must be a non-empty string from a previous page',
  ]);
  return { prefix, limit, ...(cursor === undefined ? {} : { cursor }) };
}
