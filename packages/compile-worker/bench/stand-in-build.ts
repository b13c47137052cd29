// The build daemon's part of one attempt, played without a container: the same state-machine
// calls and blob writes a real build ends with, so the record and the artifact look exactly as
// after a real build (the bench measures the request path and admission, not emerge).
import { createHash, randomBytes } from 'node:crypto';
import type { BlobStore } from '@spotjobs/core';
import { artifactBlobKey, buildLogBlobKey } from '../src/build/blob-keys.ts';
import type { BuildService } from '../src/build/build-service.ts';
import type { BuildOwner, BuildRef } from '../src/build/build-transitions.ts';
import type { PackageVersion } from '../src/gentoo/atom.ts';

/** Size of the stand-in binary package. */
const ARTIFACT_BYTES = 16_384;

/**
 * `start` → artifact and log into `blobs` → `complete` (ready), as `owner`, who must hold the
 * claim on `buildClaimKey(ref)`. Answers `superseded` without writing when `start` says there
 * is nothing to build.
 *
 * @example
 * ```ts
 * const outcome = await buildAsStandIn(builds, blobs, job, pv, { workerId, claimToken: ctx.claim!.token }, ctx.signal);
 * ```
 */
export async function buildAsStandIn(
  builds: BuildService,
  blobs: BlobStore,
  ref: BuildRef,
  pv: PackageVersion,
  owner: BuildOwner,
  signal: AbortSignal,
): Promise<'started' | 'superseded'> {
  const started = await builds.start(ref, owner, signal);
  if (started.outcome === 'superseded') return 'superseded';
  const bytes = randomBytes(ARTIFACT_BYTES);
  const key = artifactBlobKey(pv, 'tbz2');
  const logKey = buildLogBlobKey(ref, started.build.attempts);
  await blobs.put(key, bytes, undefined, signal);
  await blobs.put(logKey, 'stand-in build: ok\n', undefined, signal);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await builds.complete(ref, owner, { artifact: { key, sha256, size: bytes.byteLength }, logKey }, signal);
  return 'started';
}
