import { createHash } from 'node:crypto';
import { type BuildSpec, cpvOf } from './build-spec.ts';
import type { BuilderProfile } from './builder-profile.ts';

/** Bumped only if the identity's inputs or encoding ever change (every build id would change with it). */
export const BUILD_IDENTITY_SCHEME = 'spotjobs-compile-build/1';

/** A build id: 64 lower-case hex characters. */
export const BUILD_ID_PATTERN = /^[0-9a-f]{64}$/;

/**
 * The build identity: `sha256` (hex) of the JSON array
 * `[scheme, cpv, use, imageDigest, arch, makeConfProfile]`, where `use` is the normalised flag
 * array (`['-doc', 'ssl']`). JSON gives an unambiguous encoding (no separator can be forged),
 * and the normalised USE makes `"a b"`, `"b  a"` and `"a b a"` one build, unlike the original's
 * byte-for-byte key. Stable across hosts, processes and releases of this scheme.
 *
 * @example
 * ```ts
 * buildIdentity(spec, profile); // 'e3b0c442...' (64 hex)
 * ```
 */
export function buildIdentity(spec: BuildSpec, profile: BuilderProfile): string {
  const canonical = JSON.stringify([
    BUILD_IDENTITY_SCHEME,
    cpvOf(spec),
    spec.use,
    profile.imageDigest,
    profile.arch,
    profile.makeConfProfile,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
