import { blobKeyProblem } from '@spotjobs/core';

/** An object (or a prefix, when `key` ends with `/` or is empty) in a bucket. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

// S3's bucket naming rules (general purpose buckets): 3–63 of a-z 0-9 . -, letter or digit at both ends.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Why `key` is not acceptable as an input or output key, or `undefined`. On top of the
 * BlobStore rules (no `.`/`..` segments, no empty segment, no control character or backslash),
 * it refuses percent-encoded slashes, backslashes and dot segments: S3 stores `%2F` literally,
 * but a key that still has them after the event's own decoding is someone trying to smuggle
 * a path past a prefix check done on the decoded form.
 *
 * @example
 * ```ts
 * inputKeyProblem('input/run.sh');           // undefined
 * inputKeyProblem('input/../secret');        // 'key has an empty, . or .. segment'
 * inputKeyProblem('input%2F..%2Fsecret');    // 'key contains a percent-encoded slash or backslash'
 * ```
 */
export function inputKeyProblem(key: string): string | undefined {
  const problem = blobKeyProblem(key);
  if (problem) return problem;
  if (/%(2f|5c)/i.test(key)) return 'key contains a percent-encoded slash or backslash';
  if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(key) || /%2e%2e|%2e\.|\.%2e/i.test(key))
    return 'key contains a percent-encoded dot segment';
  return undefined;
}

/**
 * Parses `s3://bucket/key` into a location; `allowPrefix` accepts a key that is empty or ends
 * with `/` (a folder). The key is taken literally (no percent-decoding).
 *
 * @example
 * ```ts
 * parseS3Uri('s3://jobs-in/input/run.sh');            // { location: { bucket: 'jobs-in', key: 'input/run.sh' } }
 * parseS3Uri('s3://jobs-out/results/', { allowPrefix: true }); // { location: { bucket: 'jobs-out', key: 'results/' } }
 * ```
 */
export function parseS3Uri(
  uri: string,
  options: { allowPrefix?: boolean } = {},
): { location: S3Location } | { problem: string } {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(uri.trim());
  if (!match) return { problem: `${JSON.stringify(uri)} is not an s3://bucket/key URI` };
  const bucket = match[1] ?? '';
  const key = match[2] ?? '';
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    return { problem: `${JSON.stringify(bucket)} is not a valid bucket name` };
  if (options.allowPrefix && key === '') return { location: { bucket, key } };
  if (options.allowPrefix && key.endsWith('/')) {
    const problem = inputKeyProblem(key.slice(0, -1));
    return problem ? { problem: `${uri}: ${problem}` } : { location: { bucket, key } };
  }
  const problem = inputKeyProblem(key);
  return problem ? { problem: `${uri}: ${problem}` } : { location: { bucket, key } };
}

/** `s3://bucket/key`, for logs and errors. */
export function formatS3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

/**
 * Whether `location` lies under one of `prefixes` (same bucket, key starts with the prefix;
 * a prefix is treated as a folder, so `input` covers `input/a` but not `input-other/a`).
 *
 * @example
 * ```ts
 * isUnderPrefixes({ bucket: 'b', key: 'jobs/7/in.tar' }, [{ bucket: 'b', key: 'jobs/7/' }]); // true
 * isUnderPrefixes({ bucket: 'b', key: 'jobs/70/in.tar' }, [{ bucket: 'b', key: 'jobs/7' }]); // false
 * ```
 */
export function isUnderPrefixes(location: S3Location, prefixes: readonly S3Location[]): boolean {
  return prefixes.some((prefix) => {
    if (prefix.bucket !== location.bucket) return false;
    if (prefix.key === '') return true;
    const folder = prefix.key.endsWith('/') ? prefix.key : `${prefix.key}/`;
    return location.key.startsWith(folder);
  });
}

/** The folder an object sits in (`s3://b/a/b/c` → `s3://b/a/b/`), the default prefix of a job's inputs. */
export function folderOf(location: S3Location): S3Location {
  const slash = location.key.lastIndexOf('/');
  return { bucket: location.bucket, key: slash < 0 ? '' : location.key.slice(0, slash + 1) };
}
