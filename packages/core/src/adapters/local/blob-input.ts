import { Readable } from 'node:stream';
import { ValidationError } from '../../errors.ts';
import type { BlobBody, PresignOptions, PutBlobOptions } from '../../ports/blob-store.ts';

// Boundary checks for FsBlobStore, mirroring S3 so that metadata that works here works there.

const MAX_METADATA_BYTES = 2048; // S3's limit for all user metadata of one object
const METADATA_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/; // an HTTP header token
const HEADER_VALUE = /^[\t\u0020-\u007e]*$/; // printable ASCII, as x-amz-meta-* headers carry it
const MAX_PRESIGN_SECONDS = 604_800;

/** Namespaces name a directory-like space of keys, as a bucket does. */
export function assertNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(namespace)) {
    throw new ValidationError(`invalid blob namespace ${JSON.stringify(namespace)}`, [
      'a namespace is 1 to 63 letters, digits, . _ or -, starting with a letter or digit',
    ]);
  }
}

/** Validates `baseUrl` and answers it without a trailing slash. */
export function normaliseBaseUrl(baseUrl: string | undefined): string | undefined {
  if (baseUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (err) {
    throw new ValidationError(`invalid baseUrl ${JSON.stringify(baseUrl)}`, ['not a URL'], { cause: err });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ValidationError(`invalid baseUrl ${JSON.stringify(baseUrl)}`, [
      'baseUrl must be an http(s) URL without query or fragment',
    ]);
  }
  return url.href.replace(/\/+$/, '');
}

export function assertBody(body: BlobBody): void {
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return;
  throw new ValidationError('invalid blob body', ['body must be a string, a Uint8Array or a Readable']);
}

/** Validates put options; answers the metadata with lower-cased names, as S3 stores them. */
export function normalisePutOptions(options: PutBlobOptions): Record<string, string> {
  if (typeof options !== 'object' || options === null) throw new ValidationError('invalid put options');
  const issues: string[] = [];
  if (options.ifAbsent !== undefined && typeof options.ifAbsent !== 'boolean')
    issues.push('ifAbsent must be a boolean');
  if (
    options.contentType !== undefined &&
    (typeof options.contentType !== 'string' ||
      options.contentType.length === 0 ||
      !HEADER_VALUE.test(options.contentType))
  ) {
    issues.push('contentType must be a non-empty printable ASCII string');
  }
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(options.metadata ?? {})) {
    if (!METADATA_NAME.test(name)) issues.push(`metadata name ${JSON.stringify(name)} is not a header token`);
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      issues.push(`metadata ${JSON.stringify(name)} must be printable ASCII`);
    } else {
      bytes += name.length + value.length;
    }
    metadata[name.toLowerCase()] = String(value);
  }
  if (bytes > MAX_METADATA_BYTES) issues.push(`metadata is ${bytes} bytes, more than ${MAX_METADATA_BYTES}`);
  if (issues.length > 0) throw new ValidationError('invalid put options', issues);
  return metadata;
}

export function assertPresignOptions(options: PresignOptions): void {
  const issues: string[] = [];
  if (options?.method !== 'GET' && options?.method !== 'PUT') issues.push('method must be GET or PUT');
  const seconds = options?.expiresInSeconds;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    issues.push(`expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}`);
  }
  if (issues.length > 0) throw new ValidationError('invalid presign options', issues);
}
