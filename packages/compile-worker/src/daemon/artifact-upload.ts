import { createReadStream } from 'node:fs';
import type { BlobStore } from '@spotjobs/core';
import type { BuildArtifact as StoredArtifact } from '../build/build-transitions.ts';
import { BuildEngineError } from '../executor/build-engine-error.ts';
import type { BuildArtifact as LocalArtifact } from '../executor/build-executor.ts';
import { sha256Meter } from '../executor/sha256-meter.ts';

/** Content types of Portage's binary packages (xpak `.tbz2` is bzip2, GPKG is a plain tar). */
function contentTypeOf(fileName: string): string {
  return fileName.endsWith('.tbz2') ? 'application/x-bzip2' : 'application/x-tar';
}

/**
 * Streams a built binary package into the build BlobStore under `key` (multipart on S3, a
 * temporary file renamed into place locally, so a reader never sees half an artifact) and hashes
 * the bytes as they go out: if they are not the bytes the executor hashed, the object is deleted
 * and the upload fails as a machine fault. The sha256 also travels as object metadata.
 *
 * @example
 * ```ts
 * const stored = await uploadArtifact(blobs, artifactBlobKey(pv, 'gpkg.tar'), result.artifact, signal);
 * await builds.complete(job, owner, { artifact: stored, logKey }, signal);
 * ```
 */
export async function uploadArtifact(
  blobs: BlobStore,
  key: string,
  artifact: LocalArtifact,
  signal: AbortSignal,
): Promise<StoredArtifact> {
  const meter = sha256Meter();
  const body = createReadStream(artifact.path)
    .on('error', (err) => meter.stream.destroy(err))
    .pipe(meter.stream);
  await blobs.put(
    key,
    body,
    {
      contentType: contentTypeOf(artifact.fileName),
      metadata: { sha256: artifact.sha256, 'file-name': artifact.fileName },
    },
    signal,
  );
  const { sha256, size } = meter.result();
  if (sha256 !== artifact.sha256 || size !== artifact.size) {
    await blobs.delete(key).catch(() => {});
    throw new BuildEngineError(
      'collect',
      `the binary package changed on disk before its upload (sha256 ${sha256}, ${size} bytes; built ${artifact.sha256}, ${artifact.size} bytes)`,
    );
  }
  return { key, sha256, size };
}
