import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type BlobStore, isAbortError, type Logger, NotFoundError } from '@spotjobs/core';
import { InputRefusedError, StorageError } from '../run/runner-errors.ts';
import { archiveKindOf } from './archive-kind.ts';
import { byteLimit } from './byte-limit.ts';
import { extractArchive } from './extract-archive.ts';
import { formatS3Uri, inputKeyProblem, isUnderPrefixes, type S3Location } from './s3-location.ts';

/** A BlobStore for each bucket a job touches (one S3 client underneath). */
export type BlobStoreForBucket = (bucket: string) => BlobStore;

/** What a run reads from S3, and the bounds it must stay within. */
export interface InputPlan {
  /** The object whose upload triggered the job; `INPUT_FILE_PATH` points at its copy. */
  readonly trigger?: { readonly location: S3Location; readonly etag?: string | undefined } | undefined;
  /** More objects; `.tar`, `.tar.gz`/`.tgz` and `.zip` are unpacked into a folder named after them. */
  readonly extras: readonly S3Location[];
  /** Every input must lie under one of these (the job's own input prefixes). */
  readonly allowedPrefixes: readonly S3Location[];
  readonly maxObjectBytes: number;
  readonly maxExtractedBytes: number;
  readonly maxArchiveEntries: number;
}

/** Where the inputs landed. */
export interface StagedInputs {
  readonly inputDir: string;
  /** The trigger object's local copy. */
  readonly inputFile: string | undefined;
  readonly items: ReadonlyArray<{ readonly source: string; readonly path: string; readonly bytes: number }>;
}

/**
 * Copies a run's inputs from S3 into `inputDir`: every location is checked first (key rules,
 * the job's prefixes) so a refused input costs no download; then each object's size is checked
 * by HEAD and enforced again while streaming (it may change in between), the trigger's ETag is
 * compared when known, and archives are unpacked under their own folder.
 *
 * @example
 * ```ts
 * const staged = await stageInputs(plan, '/scratch/run-42/input', (bucket) => new S3BlobStore({ client, bucket }), logger, signal);
 * staged.inputFile; // '/scratch/run-42/input/run.sh'
 * ```
 */
export async function stageInputs(
  plan: InputPlan,
  inputDir: string,
  blobsFor: BlobStoreForBucket,
  logger: Logger,
  signal?: AbortSignal,
): Promise<StagedInputs> {
  const all = [...(plan.trigger ? [plan.trigger.location] : []), ...plan.extras];
  const names = new Set<string>();
  for (const location of all) {
    const uri = formatS3Uri(location);
    const problem = inputKeyProblem(location.key);
    if (problem) throw new InputRefusedError(uri, problem);
    if (!isUnderPrefixes(location, plan.allowedPrefixes))
      throw new InputRefusedError(
        uri,
        `outside this job's input prefixes (${plan.allowedPrefixes.map(formatS3Uri).join(', ') || 'none'})`,
      );
    const name = archiveKindOf(location.key)?.stem ?? baseName(location.key);
    if (location !== plan.trigger?.location && names.has(name))
      throw new InputRefusedError(uri, `another input already uses the name ${JSON.stringify(name)}`);
    names.add(name);
  }

  await mkdir(inputDir, { recursive: true });
  const items: Array<{ source: string; path: string; bytes: number }> = [];
  let inputFile: string | undefined;
  if (plan.trigger) {
    inputFile = join(inputDir, baseName(plan.trigger.location.key));
    const bytes = await download(blobsFor, plan.trigger.location, inputFile, plan, plan.trigger.etag, signal);
    items.push({ source: formatS3Uri(plan.trigger.location), path: inputFile, bytes });
  }
  let extracted = 0;
  for (const [index, location] of plan.extras.entries()) {
    const uri = formatS3Uri(location);
    const archive = archiveKindOf(location.key);
    if (!archive) {
      const path = join(inputDir, baseName(location.key));
      items.push({
        source: uri,
        path,
        bytes: await download(blobsFor, location, path, plan, undefined, signal),
      });
      continue;
    }
    const temporary = join(inputDir, `.download-${index}`);
    try {
      await download(blobsFor, location, temporary, plan, undefined, signal);
      const root = join(inputDir, archive.stem);
      const bytes = await extractArchive(
        temporary,
        archive.kind,
        root,
        uri,
        { maxBytes: plan.maxExtractedBytes - extracted, maxEntries: plan.maxArchiveEntries },
        signal,
      );
      extracted += bytes;
      items.push({ source: uri, path: root, bytes });
    } finally {
      await rm(temporary, { force: true });
    }
  }
  logger.info({ inputs: items.map(({ source, bytes }) => ({ source, bytes })) }, 'inputs staged');
  return { inputDir, inputFile, items };
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

async function download(
  blobsFor: BlobStoreForBucket,
  location: S3Location,
  path: string,
  plan: InputPlan,
  expectedEtag: string | undefined,
  signal: AbortSignal | undefined,
): Promise<number> {
  const uri = formatS3Uri(location);
  const blobs = blobsFor(location.bucket);
  try {
    const head = await blobs.head(location.key, signal);
    if (!head) throw new InputRefusedError(uri, 'does not exist');
    if (head.size > plan.maxObjectBytes)
      throw new InputRefusedError(uri, `is ${head.size} bytes, over the limit of ${plan.maxObjectBytes}`);
    const object = await blobs.get(location.key, signal);
    if (expectedEtag !== undefined && object.info.etag !== expectedEtag.replace(/^"|"$/g, '')) {
      object.body.destroy();
      throw new InputRefusedError(
        uri,
        `changed since the job was submitted (ETag ${object.info.etag}, expected ${expectedEtag})`,
      );
    }
    let bytes = 0;
    await pipeline(
      object.body,
      byteLimit(plan.maxObjectBytes, (n) => {
        bytes += n;
      }),
      createWriteStream(path, { flags: 'wx', mode: 0o600 }),
      { signal },
    );
    return bytes;
  } catch (err) {
    if (err instanceof InputRefusedError || isAbortError(err) || signal?.aborted) throw err;
    if ((err as { code?: string }).code === 'BYTE_LIMIT')
      throw new InputRefusedError(
        uri,
        `grew over the limit of ${plan.maxObjectBytes} bytes while downloading`,
      );
    if (err instanceof NotFoundError) throw new InputRefusedError(uri, 'does not exist', { cause: err });
    throw new StorageError(`cannot download ${uri}: ${(err as Error).message}`, { cause: err });
  }
}
