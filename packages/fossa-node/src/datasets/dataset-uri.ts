import { isAbsolute, relative, resolve } from 'node:path';
import { blobKeyProblem } from '@spotjobs/core';
import { DatasetUriError } from '../errors.ts';

export const datasetFormats = ['ndjson', 'json', 'csv'] as const;
export type DatasetFormat = (typeof datasetFormats)[number];
export type DatasetCompression = 'none' | 'gzip';

/** Where a dataset's bytes live: a local file, or an object in an S3 bucket. */
export type DatasetStorage =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

/** A dataset URI, understood and checked. */
export interface DatasetLocation {
  /** The URI as given, for messages. */
  readonly uri: string;
  readonly format: DatasetFormat;
  readonly compression: DatasetCompression;
  readonly storage: DatasetStorage;
}

export interface DatasetUriOptions {
  /** The format when the URI does not say it (by scheme or extension). */
  readonly format?: DatasetFormat;
  /** Overrides what the `.gz` extension says; conflicting with a `gz+` scheme is an error. */
  readonly compression?: DatasetCompression;
  /**
   * Local paths must lie inside this directory, and relative ones are resolved against it.
   * Without it, relative paths are resolved against the working directory.
   */
  readonly localRoot?: string;
}

const MAX_URI_LENGTH = 4096;
const SCHEME = /^([a-z0-9]+(?:\+[a-z0-9]+)*):\/\/(.*)$/s;
const EXTENSION_FORMAT: Readonly<Record<string, DatasetFormat>> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'json',
  '.csv': 'csv',
};
// S3's bucket naming rules (lower case, 3–63 characters, no `..`, not an IP address).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * Why `name` is not a valid S3 bucket name, or `undefined` when it is.
 *
 * @example
 * ```ts
 * s3BucketNameProblem('Lake'); // '"Lake" is not a valid S3 bucket name'
 * ```
 */
export function s3BucketNameProblem(name: string): string | undefined {
  return BUCKET.test(name) && !name.includes('..') && !IP_ADDRESS.test(name)
    ? undefined
    : `${JSON.stringify(name)} is not a valid S3 bucket name`;
}

function isFormat(value: string): value is DatasetFormat {
  return (datasetFormats as readonly string[]).includes(value);
}

interface SchemeParts {
  readonly s3: boolean;
  readonly gzip: boolean;
  readonly fileUrl: boolean;
  readonly format: DatasetFormat | undefined;
  readonly rest: string;
}

/** Splits Aye-Aye's `[modifier+…]type://rest` (modifiers `s3` and `gz`, types a format or `file`). */
function schemeParts(uri: string, problems: string[]): SchemeParts {
  const match = SCHEME.exec(uri);
  if (!match) {
    if (uri.includes('://')) problems.push('the scheme must be lower-case letters and digits joined by +');
    return { s3: false, gzip: false, fileUrl: false, format: undefined, rest: uri };
  }
  const parts = match[1]!.split('+');
  const formats = parts.filter(isFormat);
  const unknown = parts.filter(
    (part) => !isFormat(part) && part !== 's3' && part !== 'gz' && part !== 'file',
  );
  if (unknown.length > 0) {
    problems.push(
      `unsupported scheme part ${unknown.map((p) => JSON.stringify(p)).join(', ')} (use s3, gz, file, ndjson, json or csv)`,
    );
  }
  if (formats.length > 1) problems.push('the scheme names more than one format');
  if (new Set(parts).size !== parts.length) problems.push('the scheme repeats a part');
  const s3 = parts.includes('s3');
  const fileUrl = parts.includes('file');
  if (s3 && fileUrl) problems.push('a dataset cannot be both s3 and file');
  return { s3, gzip: parts.includes('gz'), fileUrl, format: formats[0], rest: match[2]! };
}

/** The format and compression a name implies: `x.csv.gz` → csv, gzip. */
function fromName(name: string): { format: DatasetFormat | undefined; gzip: boolean } {
  const lower = name.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  const dot = base.lastIndexOf('.');
  return { format: dot >= 0 ? EXTENSION_FORMAT[base.slice(dot)] : undefined, gzip };
}

function localPath(parts: SchemeParts, root: string | undefined, problems: string[]): string {
  let raw = parts.rest;
  if (parts.fileUrl) {
    // Decoded by hand: URL parsing would normalise `%2e%2e/` away before it could be refused.
    const path = raw.startsWith('localhost/') ? raw.slice('localhost'.length) : raw;
    if (!path.startsWith('/')) problems.push('a file URL needs an absolute path (file:///...)');
    try {
      raw = decodeURIComponent(path);
    } catch {
      problems.push('the file URL has a bad percent-encoding');
      return raw;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
    if (/[\u0000-\u001f\u007f]/.test(raw)) problems.push('the file URL encodes a control character');
  }
  if (raw === '') problems.push('the path is empty');
  if (raw.split('/').includes('..')) problems.push('the path has a .. segment');
  if (raw.endsWith('/')) problems.push('the path names a directory');
  if (root === undefined) return resolve(raw);
  const base = resolve(root);
  const path = resolve(base, raw);
  const inside = relative(base, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
    problems.push('the path is outside the local root');
  return path;
}

function s3Location(rest: string, problems: string[]): { bucket: string; key: string } {
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  const bucketProblem = s3BucketNameProblem(bucket);
  if (bucketProblem) problems.push(bucketProblem);
  const keyProblem = blobKeyProblem(key);
  if (keyProblem) problems.push(`the object key is invalid: ${keyProblem}`);
  return { bucket, key };
}

/**
 * Reads a dataset URI. Accepted forms:
 *
 * - `s3://bucket/key.csv.gz`, and Aye-Aye's engine URLs `s3+gz+csv://bucket/key`;
 * - local paths `/data/in.ndjson`, `file:///data/in.ndjson`, `csv:///data/in.csv`, `gz+ndjson://rel/in.ndjson`.
 *
 * The format comes from the scheme, else `options.format`, else the extension (`.ndjson` or
 * `.jsonl`, `.json`, `.csv`); gzip from a `gz+` scheme, `options.compression` or a `.gz`
 * extension. Anything unsafe is refused with `DatasetUriError` listing every problem: a `..`
 * segment, a path outside `localRoot`, a bad bucket name or object key (core's blob key rules),
 * control characters.
 *
 * @example
 * ```ts
 * parseDatasetUri('s3://lake/2024/rows.ndjson.gz');
 * // { format: 'ndjson', compression: 'gzip', storage: { kind: 's3', bucket: 'lake', key: '2024/rows.ndjson.gz' }, ... }
 * ```
 */
export function parseDatasetUri(uri: string, options: DatasetUriOptions = {}): DatasetLocation {
  if (typeof uri !== 'string' || uri === '') throw new DatasetUriError(String(uri), ['the URI is empty']);
  const problems: string[] = [];
  if (uri.length > MAX_URI_LENGTH) problems.push(`the URI is longer than ${MAX_URI_LENGTH} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(uri)) problems.push('the URI contains a control character');
  if (options.format !== undefined && !isFormat(options.format))
    problems.push(`unknown format ${JSON.stringify(options.format)}`);
  if (options.compression !== undefined && options.compression !== 'none' && options.compression !== 'gzip')
    problems.push(`unknown compression ${JSON.stringify(options.compression)}`);
  if (problems.length > 0) throw new DatasetUriError(uri, problems);

  const parts = schemeParts(uri, problems);
  const storage: DatasetStorage = parts.s3
    ? { kind: 's3', ...s3Location(parts.rest, problems) }
    : { kind: 'file', path: localPath(parts, options.localRoot, problems) };
  const named = fromName(storage.kind === 's3' ? storage.key : storage.path);

  if (parts.format && options.format && parts.format !== options.format)
    problems.push(`the scheme says ${parts.format} but the format option says ${options.format}`);
  const format = parts.format ?? options.format ?? named.format;
  if (format === undefined)
    problems.push('cannot tell the format: use a .ndjson, .json or .csv name, or give the format');
  if (parts.gzip && options.compression === 'none')
    problems.push('the scheme says gz but the compression option says none');
  const compression: DatasetCompression =
    parts.gzip || (options.compression ?? (named.gzip ? 'gzip' : 'none')) === 'gzip' ? 'gzip' : 'none';

  if (problems.length > 0) throw new DatasetUriError(uri, problems);
  return { uri, format: format!, compression, storage };
}
