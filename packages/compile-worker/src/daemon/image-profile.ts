import type { BuilderProfile } from '../build/builder-profile.ts';
import { UNPINNED_IMAGE } from '../build/builder-profile.ts';

/** The image a build ran on, as the executor reports it. */
export interface BuiltOnImage {
  /** The engine's image id (`sha256:` of its config), or `host` for the process executor. */
  readonly id: string;
  /** `repo@sha256:…` digests of the image in its registries (empty for local images). */
  readonly repoDigests: readonly string[];
}

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
export function imageMatchesProfile(image: BuiltOnImage, profile: BuilderProfile): boolean {
  if (profile.imageDigest === UNPINNED_IMAGE) return true;
  if (image.id === profile.imageDigest) return true;
  return image.repoDigests.some((d) => d.slice(d.indexOf('@') + 1) === profile.imageDigest);
}
