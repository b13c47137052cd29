import type { BuilderProfile } from '../build/builder-profile.ts';
import { UNPINNED_IMAGE } from '../build/builder-profile.ts';
import type { BuildImage } from '../executor/build-executor.ts';

/**
 * Whether a build that ran on `image` may be recorded under `profile`: a pinned profile names its
 * image by id or by a registry digest, and a build on any other image would be served under an
 * identity it does not have. An unpinned profile accepts any image.
 *
 * @example
 * ```ts
 * imageMatchesProfile({ id: 'sha256:ab…', repoDigests: [] }, { imageDigest: 'sha256:ab…', arch, makeConfProfile }); // true
 * ```
 */
export function imageMatchesProfile(image: BuildImage, profile: BuilderProfile): boolean {
  if (profile.imageDigest === UNPINNED_IMAGE) return true;
  if (image.id === profile.imageDigest) return true;
  return image.repoDigests.some((d) => d.slice(d.indexOf('@') + 1) === profile.imageDigest);
}
