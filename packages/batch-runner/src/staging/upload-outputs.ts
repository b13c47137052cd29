import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { blobKeyProblem, isAbortError, type Logger } from '@spotjobs/core';
import { StorageError } from '../run/runner-errors.ts';
import { formatS3Uri, type S3Location } from './s3-location.ts';
import type { BlobStoreForBucket } from './stage-inputs.ts';

export interface UploadOutputsOptions {
  /** Folder whose files are uploaded, recursively. */
  readonly outputDir: string;
  /** Where they go: `<bucket>/<prefix>/<run id>/` (the key ends with `/`). */
  readonly destination: S3Location;
  /** Paths under `outputDir` that are not outputs (the staged inputs, when they sit inside it). */
  readonly exclude?: readonly string[];
  /** Files uploaded last, in this order (`time.log`: its presence says the rest is there). */
  readonly last?: readonly string[];
  /** Uploads at once; default 4. */
  readonly concurrency?: number;
}

export interface UploadSummary {
  readonly files: number;
  readonly bytes: number;
  /** Files left out, with why (symlinks, special files, names S3 cannot take). */
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
}

/**
 * Uploads every regular file under `outputDir` to `destination` + its relative path,
 * through the BlobStore (multipart for large files). Symlinks and special files are skipped
 * and reported, never followed. Every file is tried; if any fails, a `StorageError` lists
 * them after the rest went up.
 *
 * @example
 * ```ts
 * await uploadOutputs({ outputDir: '/scratch/out', destination: { bucket: 'results', key: 'out/job-42/' }, last: ['time.log'] }, blobsFor, logger, signal);
 * ```
 */
export async function uploadOutputs(
  options: UploadOutputsOptions,
  blobsFor: BlobStoreForBucket,
  logger: Logger,
  signal?: AbortSignal,
): Promise<UploadSummary> {
  const blobs = blobsFor(options.destination.bucket);
  const skipped: Array<{ path: string; reason: string }> = [];
  const files = await listFiles(options.outputDir, options.exclude ?? [], skipped);
  const lastNames = options.last ?? [];
  const first = files.filter((f) => !lastNames.includes(f.relative));
  const last = lastNames.flatMap((name) => files.filter((f) => f.relative === name));
  const failures: string[] = [];
  let bytes = 0;
  let uploaded = 0;
  const upload = async (file: LocalFile) => {
    const key = options.destination.key + file.relative;
    const problem = blobKeyProblem(key);
    if (problem) {
      skipped.push({ path: file.relative, reason: problem });
      return;
    }
    try {
      const info = await blobs.put(
        key,
        createReadStream(file.path),
        file.relative.endsWith('.log') ? { contentType: 'text/plain; charset=utf-8' } : {},
        signal,
      );
      bytes += info.size;
      uploaded += 1;
    } catch (err) {
      if (isAbortError(err) && signal?.aborted) throw err;
      failures.push(`${file.relative}: ${(err as Error).message}`);
      logger.error({ err, file: file.relative }, 'output upload failed');
    }
  };
  const queue = [...first];
  const workers = Array.from({ length: Math.max(1, options.concurrency ?? 4) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await upload(file);
  });
  await Promise.all(workers);
  for (const file of last) await upload(file);
  for (const { path, reason } of skipped) logger.warn({ file: path, reason }, 'output not uploaded');
  const destination = formatS3Uri(options.destination);
  if (failures.length > 0)
    throw new StorageError(
      `${failures.length} output(s) not uploaded to ${destination}: ${failures.join('; ')}`,
    );
  logger.info({ destination, files: uploaded, bytes }, 'outputs uploaded');
  return { files: uploaded, bytes, skipped };
}

interface LocalFile {
  readonly path: string;
  /** Relative to the output folder, with `/` separators. */
  readonly relative: string;
}

async function listFiles(
  root: string,
  exclude: readonly string[],
  skipped: Array<{ path: string; reason: string }>,
): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const excluded = (path: string) => exclude.some((e) => path === e || path.startsWith(e + sep));
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (excluded(path)) continue;
      const rel = relative(root, path).split(sep).join('/');
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push({ path, relative: rel });
      else
        skipped.push({
          path: rel,
          reason: entry.isSymbolicLink() ? 'symlink (not followed)' : 'not a regular file',
        });
    }
  };
  try {
    if ((await lstat(root)).isDirectory()) await walk(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return files;
}
