import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BuildArtifact } from './build-executor.ts';
import { sha256Meter } from './sha256-meter.ts';

/**
 * Copies `source` into `dir/fileName` while hashing it: written under a temporary name, then
 * renamed, so the final name only ever holds a complete file. On any error (including `signal`
 * aborting) the temporary file is removed and the error rethrown.
 *
 * No fsync: the file only lives until it is uploaded, and after a crash the job is built again
 * in a new work directory, so durability would buy nothing and cost every build a disk flush.
 *
 * @example
 * ```ts
 * const artifact = await writeArtifact(createReadStream(built), workDir, 'ranger-1.8.1.tbz2', signal);
 * artifact.sha256; // '9f86d0…'
 * ```
 */
export async function writeArtifact(
  source: Readable,
  dir: string,
  fileName: string,
  signal?: AbortSignal,
): Promise<BuildArtifact> {
  if (fileName.includes('/') || fileName.startsWith('.')) throw new Error(`unsafe artifact name ${fileName}`);
  const path = join(dir, fileName);
  const partial = join(dir, `.${fileName}.partial-${randomBytes(4).toString('hex')}`);
  const meter = sha256Meter();
  try {
    await pipeline(source, meter.stream, createWriteStream(partial, { flags: 'wx', mode: 0o644 }), {
      signal,
    });
    await rename(partial, path);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { path, fileName, ...meter.result() };
}
