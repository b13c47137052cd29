import {
  ClaimStore,
  type Clock,
  type Logger,
  type Queue,
  silentLogger,
  systemClock,
  type Table,
} from '@spotjobs/core';
import { type Admission, type AdmitOptions, admitBuild } from './admission.ts';
import type { BuildContext } from './build-context.ts';
import { type BuildPolicy, resolveBuildPolicy } from './build-policy.ts';
import type { BuildRecord } from './build-record.ts';
import { BuildRepository } from './build-repository.ts';
import type { BuildSpec } from './build-spec.ts';
import {
  type BuildArtifact,
  type BuildOwner,
  type BuildRef,
  completeBuild,
  failBuild,
  releaseBuild,
  type StartResult,
  startBuild,
} from './build-transitions.ts';
import type { BuilderProfile } from './builder-profile.ts';
import { type ReclaimReport, reclaimStuckBuilds } from './reclaim-stuck-builds.ts';

/** The Table partition of the build claims (`ClaimStore`), beside the build records. */
export const BUILD_CLAIMS_PARTITION = 'compile-claims';

export interface BuildServiceOptions {
  /** Holds build records, the active index and the claims (one table: DynamoDB or local). */
  readonly table: Table;
  /** Where build messages go (SQS or local). */
  readonly queue: Queue;
  /** The builder this deployment builds on: part of every build identity. */
  readonly profile: BuilderProfile;
  readonly policy?: Partial<BuildPolicy>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * The build state machine on the core `Table`, `Queue` and `ClaimStore`: admission for the
 * request path, transitions for the build daemon, and the reclaim pass for its cron. Holds no
 * state of its own: any number of instances, in any number of processes, share one table.
 *
 * The daemon's runner takes `builds.claims` as its claim store, keyed by `buildClaimKey`, and
 * passes `ctx.claim.token` as the owner's token to `start` / `complete` / `fail` / `release`.
 *
 * @example
 * ```ts
 * const builds = new BuildService({ table, queue, profile });
 * const admission = await builds.admit(spec, { mayEnqueue: true }, signal); // request path
 * const started = await builds.start(job, { workerId, claimToken: ctx.claim!.token }, signal); // daemon
 * await builds.complete(job, owner, { artifact: { key, sha256, size }, logKey }, signal);
 * ```
 */
export class BuildService {
  readonly claims: ClaimStore;
  readonly profile: BuilderProfile;
  readonly policy: BuildPolicy;
  readonly #ctx: BuildContext;

  constructor(options: BuildServiceOptions) {
    const clock = options.clock ?? systemClock;
    this.claims = new ClaimStore({ table: options.table, clock, partition: BUILD_CLAIMS_PARTITION });
    this.profile = Object.freeze({ ...options.profile });
    this.policy = resolveBuildPolicy(options.policy);
    this.#ctx = {
      repository: new BuildRepository(options.table),
      queue: options.queue,
      claims: this.claims,
      clock,
      profile: this.profile,
      policy: this.policy,
      logger: options.logger ?? silentLogger,
    };
  }

  /** See `admitBuild`. */
  admit(spec: BuildSpec, options: AdmitOptions, signal?: AbortSignal): Promise<Admission> {
    return admitBuild(this.#ctx, spec, options, signal);
  }

  /** The record of build `id`, or undefined. */
  async get(id: string, signal?: AbortSignal): Promise<BuildRecord | undefined> {
    return (await this.#ctx.repository.get(id, signal))?.record;
  }

  /** See `startBuild`. */
  start(ref: BuildRef, owner: BuildOwner, signal?: AbortSignal): Promise<StartResult> {
    return startBuild(this.#ctx, ref, owner, signal);
  }

  /** See `completeBuild`. */
  complete(
    ref: BuildRef,
    owner: BuildOwner,
    result: { readonly artifact: BuildArtifact; readonly logKey?: string },
    signal?: AbortSignal,
  ): Promise<BuildRecord> {
    return completeBuild(this.#ctx, ref, owner, result, signal);
  }

  /** See `failBuild`. */
  fail(
    ref: BuildRef,
    owner: BuildOwner,
    result: { readonly reason: string; readonly logKey?: string },
    signal?: AbortSignal,
  ): Promise<BuildRecord> {
    return failBuild(this.#ctx, ref, owner, result, signal);
  }

  /** See `releaseBuild`. */
  release(
    ref: BuildRef,
    owner: BuildOwner,
    details: { readonly reason: string },
    signal?: AbortSignal,
  ): Promise<BuildRecord> {
    return releaseBuild(this.#ctx, ref, owner, details, signal);
  }

  /** See `reclaimStuckBuilds`. */
  reclaimStuck(signal?: AbortSignal): Promise<ReclaimReport> {
    return reclaimStuckBuilds(this.#ctx, signal);
  }
}
