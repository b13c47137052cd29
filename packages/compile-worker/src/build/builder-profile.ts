import { z } from 'zod';

/**
 * The builder a build runs on, part of its identity: the same package and USE built from
 * another image, architecture or make.conf is another binary. `imageDigest` is the builder
 * image's content digest (`sha256:<64 hex>`), or `unpinned` for local development, where the
 * image may change under the same identity (never use it in production).
 *
 * @example
 * ```ts
 * const profile = builderProfileSchema.parse({ imageDigest: 'unpinned', arch: 'amd64', makeConfProfile: 'pacloud-2018' });
 * ```
 */
export interface BuilderProfile {
  readonly imageDigest: string;
  readonly arch: string;
  readonly makeConfProfile: string;
}

/** The digest placeholder of an unpinned (development) builder image. */
export const UNPINNED_IMAGE = 'unpinned';

/** Schema of a `BuilderProfile`, shared by the configuration and the queue message. */
export const builderProfileSchema = z
  .object({
    imageDigest: z
      .string()
      .regex(/^(sha256:[0-9a-f]{64}|unpinned)$/, 'must be sha256:<64 lower-case hex> or "unpinned"'),
    arch: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be a Gentoo arch keyword such as amd64'),
    makeConfProfile: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 . _ - (an id, not a path)'),
  })
  .strict();
