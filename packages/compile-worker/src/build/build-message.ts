import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';
import { BUILD_ID_PATTERN, buildIdentity } from './build-identity.ts';
import { type BuildSpec, cpvOf, toBuildSpec, useTextOf } from './build-spec.ts';
import { type BuilderProfile, builderProfileSchema } from './builder-profile.ts';

/** The `type` of a compile job message (the core runner routes on it). */
export const COMPILE_JOB_TYPE = 'compile';

/**
 * The queue message of one build, shared by the request path (producer) and the build daemon
 * (consumer). The first six fields are Pacloud's **(compat)** message, with the same meaning:
 * `useflag` is now the *normalised* USE text (`" "` when empty, as the original sent it, so an
 * old consumer's `USE="$useflag"` still works). The rest is ours: the build id and generation
 * (which claim to take), the USE as an array, and the builder profile the id was computed for.
 *
 * The schema re-checks everything a consumer relies on: the PMS grammar of every part, that the
 * compat fields agree with each other and with `use`, and that `buildId` is the identity of the
 * message's own contents, so a forged or corrupted message never reaches a container.
 *
 * @example
 * ```ts
 * const job = buildMessageSchema.parse(JSON.parse(message.body));
 * ```
 */
export const buildMessageSchema = z
  .object({
    type: z.literal(COMPILE_JOB_TYPE),
    packageExpression: z.string(),
    nameLong: z.string(),
    category: z.string(),
    nameShort: z.string(),
    version: z.string(),
    useflag: z.string(),
    buildId: z.string().regex(BUILD_ID_PATTERN, 'must be 64 lower-case hex characters'),
    generation: z.number().int().min(1),
    use: z.array(z.string()).max(256),
    profile: builderProfileSchema,
    requestedAt: z.number().int().min(0),
  })
  .superRefine((m, ctx) => {
    let spec: BuildSpec;
    try {
      spec = toBuildSpec({ category: m.category, name: m.nameShort, version: m.version }, m.use, {
        category: 'category',
        name: 'nameShort',
      });
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      for (const p of err.problems) ctx.addIssue({ code: 'custom', path: [p.field], message: p.reason });
      return;
    }
    const expect = (path: string, actual: string, wanted: string) => {
      if (actual !== wanted)
        ctx.addIssue({ code: 'custom', path: [path], message: `must be ${JSON.stringify(wanted)}` });
    };
    expect('use', m.use.join(' '), useTextOf(spec)); // already normalised, in order
    expect('nameLong', m.nameLong, `${spec.category}/${spec.name}`);
    expect('packageExpression', m.packageExpression, cpvOf(spec));
    expect('useflag', m.useflag, compatUseflag(spec));
    expect('buildId', m.buildId, buildIdentity(spec, m.profile));
  });

/** A validated compile job message. */
export type BuildMessage = z.infer<typeof buildMessageSchema>;

/** The original's `useflag`: the USE text, or a single space when empty. */
function compatUseflag(spec: BuildSpec): string {
  return spec.use.length > 0 ? useTextOf(spec) : ' ';
}

/**
 * The message for `spec`'s build number `generation` on `profile`.
 *
 * @example
 * ```ts
 * const body = JSON.stringify(toBuildMessage(spec, profile, { buildId, generation: 1, requestedAt: Date.now() }));
 * ```
 */
export function toBuildMessage(
  spec: BuildSpec,
  profile: BuilderProfile,
  ids: { readonly buildId: string; readonly generation: number; readonly requestedAt: number },
): BuildMessage {
  return {
    type: COMPILE_JOB_TYPE,
    packageExpression: cpvOf(spec),
    nameLong: `${spec.category}/${spec.name}`,
    category: spec.category,
    nameShort: spec.name,
    version: spec.version,
    useflag: compatUseflag(spec),
    buildId: ids.buildId,
    generation: ids.generation,
    use: [...spec.use],
    profile: {
      imageDigest: profile.imageDigest,
      arch: profile.arch,
      makeConfProfile: profile.makeConfProfile,
    },
    requestedAt: ids.requestedAt,
  };
}

/**
 * The claim key of a build message: one build in flight per identity *and generation*. A
 * generation ends when its build is concluded (ready or failed); a retry after a failure is the
 * next generation, so a redelivered message of a concluded generation finds its claim completed
 * and is dropped as a duplicate, while the retry can still be claimed.
 *
 * @example
 * ```ts
 * claim: { store: claims, key: buildClaimKey, ttlMs: 120_000 }
 * ```
 */
export function buildClaimKey(job: { readonly buildId: string; readonly generation: number }): string {
  return `build/${job.buildId}/g${job.generation}`;
}
