import { z } from 'zod';
import { BUILD_ID_PATTERN } from '../build/build-identity.ts';
import { BUILD_STATES } from '../build/build-record.ts';
import { packageNameProblem } from '../gentoo/package-names.ts';
import { versionProblem } from '../gentoo/version.ts';

// The answers of the clean API (`toBuildView`, the link endpoints, `errorResponse`) as the CLI
// relies on them. Only what the CLI reads is required; fields the server may add later pass.
// Names that end up in a file name are checked against the Gentoo grammar, so a broken or
// hostile server can never make the CLI write outside its output directory.

const isoTime = z.iso.datetime({ offset: true });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters');
const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * A build as `GET /v1/builds/<id>` and `POST /v1/builds` answer it.
 *
 * @example
 * ```ts
 * const view = buildViewSchema.parse(await response.json());
 * if (view.state === 'ready') console.log(view.artifact?.sha256);
 * ```
 */
export const buildViewSchema = z
  .object({
    id: z.string().regex(BUILD_ID_PATTERN, 'must be a build id'),
    state: z.enum(BUILD_STATES),
    atom: z.string(),
    category: z.string(),
    package: z.string().refine((v) => packageNameProblem(v) === undefined, 'must be a Gentoo package name'),
    version: z.string().refine((v) => versionProblem(v) === undefined, 'must be a Gentoo version'),
    use: z.array(z.string()),
    generation: z.number().int().min(1),
    attempts: z.number().int().min(0),
    createdAt: isoTime,
    updatedAt: isoTime,
    startedAt: isoTime.nullable(),
    finishedAt: isoTime.nullable(),
    workerId: z.string().nullable(),
    error: z.object({ message: z.string(), at: isoTime }).nullable(),
    retryAfter: isoTime.nullable(),
    artifact: z.object({ sha256, size }).nullable(),
    attemptsHistory: z.array(
      z.object({
        attempt: z.number().int(),
        workerId: z.string(),
        outcome: z.string(),
        reason: z.string().nullable(),
      }),
    ),
    links: z.object({ self: z.string(), artifact: z.string().nullable(), log: z.string().nullable() }),
  })
  .refine((view) => view.state !== 'ready' || view.artifact !== null, {
    message: 'a ready build must have an artifact',
    path: ['artifact'],
  });
export type BuildView = z.infer<typeof buildViewSchema>;

/** `GET /v1/builds/<id>/artifact`: a presigned link with the artifact's checksum and size. */
export const artifactLinkSchema = z.object({ url: httpUrl, expiresAt: isoTime, sha256, size });
export type ArtifactLink = z.infer<typeof artifactLinkSchema>;

/** `GET /v1/builds/<id>/log`: a presigned link of the latest attempt's log. */
export const logLinkSchema = z.object({ url: httpUrl, expiresAt: isoTime });
export type LogLink = z.infer<typeof logLinkSchema>;

/** The clean API's error body. */
export const apiErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
