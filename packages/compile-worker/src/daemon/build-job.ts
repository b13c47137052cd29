import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import {
  type BlobStore,
  type JobContext,
  type JobDefinition,
  LeaseLostError,
  RetryJobError,
} from '@spotjobs/core';
import { artifactBlobKey, buildLogBlobKey } from '../build/blob-keys.ts';
import { type BuildMessage, buildClaimKey, buildMessageSchema } from '../build/build-message.ts';
import type { BuildService } from '../build/build-service.ts';
import type { BuildOwner } from '../build/build-transitions.ts';
import type { BuilderProfile } from '../build/builder-profile.ts';
import { BuildEngineError } from '../executor/build-engine-error.ts';
import type { BuildExecutor, BuildResult } from '../executor/build-executor.ts';
import { uploadArtifact } from './artifact-upload.ts';
import { imageMatchesProfile } from './image-profile.ts';

export interface BuildJobOptions {
  readonly builds: BuildService;
  /** Where artifacts and logs go (S3 or local files). */
  readonly blobs: BlobStore;
  readonly executor: BuildExecutor;
  /** This host, recorded on every attempt. */
  readonly workerId: string;
  /** Claim lifetime without renewal. Default: the runner's visibility timeout. */
  readonly claimTtlMs?: number;
  /** How long a machine fault (engine down, image missing) waits before the next try. Default 30 s. */
  readonly engineRetryDelaySeconds?: number;
}

/** What a finished job reports (the claim's result). */
export type BuildJobOutcome =
  | { readonly outcome: 'ready'; readonly sha256: string; readonly key: string }
  | { readonly outcome: 'failed'; readonly reason: string }
  | { readonly outcome: 'superseded'; readonly reason: string };

/** Time a give-back (release of the record, removal of an orphan upload) may take after an abort. */
const GIVE_BACK_MS = 10_000;

/**
 * The compile job for the core runner: one queue message (`buildMessageSchema`, so a malformed
 * or forged message is dead-lettered before anything runs) → one attempt of one build:
 *
 * ```
 * claim build/<id>/g<n> (the runner)  →  start (queued → building, fenced by the claim token)
 * executor.build (fresh container, both emerge steps, log lines to pino)
 * log → BlobStore; success: artifact → BlobStore (sha256 checked again) → complete (→ ready)
 *                  failure: fail (→ failed, with reason and log)
 * ```
 *
 * Anything that stops the build without a verdict (spot notice, shutdown, job timeout, a machine
 * fault) gives the build back: the container is already gone (the executor removes it on abort),
 * an artifact uploaded but not recorded is deleted, the record returns to `queued`, and the error
 * goes on to the runner, which releases the message for another host (a machine fault after a
 * delay). A worker whose claim was taken over writes nothing.
 *
 * @example
 * ```ts
 * const runner = await Runner.create({ queue, jobs: { compile: buildJob({ builds, blobs, executor, workerId }) } });
 * ```
 */
export function buildJob(options: BuildJobOptions): JobDefinition<typeof buildMessageSchema> {
  const { builds, blobs, executor, workerId } = options;
  const engineRetryDelaySeconds = options.engineRetryDelaySeconds ?? 30;
  return {
    schema: buildMessageSchema,
    claim: {
      store: builds.claims,
      key: buildClaimKey,
      ...(options.claimTtlMs !== undefined ? { ttlMs: options.claimTtlMs } : {}),
    },
    async handle(job: BuildMessage, ctx: JobContext): Promise<BuildJobOutcome> {
      if (profileText(job.profile) !== profileText(builds.profile))
        // Another builder (a fleet mid-rollout): leave it to a worker of that profile.
        throw new RetryJobError(
          `message is for builder ${profileText(job.profile)}, this worker builds ${profileText(builds.profile)}`,
          { delaySeconds: 60 },
        );
      const claim = ctx.claim;
      if (!claim) throw new Error('the compile job runs with a claim');
      const owner: BuildOwner = { workerId, claimToken: claim.token };
      const started = await builds.start(job, owner, ctx.signal);
      if (started.outcome === 'superseded') {
        ctx.logger.info({ buildId: job.buildId, reason: started.reason }, 'nothing to build');
        return { outcome: 'superseded', reason: started.reason };
      }
      const attempt = started.build.attempts;
      const log = ctx.logger.child({ buildId: job.buildId, cpv: job.packageExpression, attempt });
      log.info({ use: job.use, executor: executor.kind }, 'build started');

      let uploaded: string | undefined;
      let result: BuildResult | undefined;
      try {
        result = await executor.build({
          cpv: job.packageExpression,
          use: job.use,
          jobId: `${job.buildId.slice(0, 16)}-g${job.generation}-a${attempt}`,
          signal: ctx.signal,
          onLog: (line) => log.info({ step: line.step, stream: line.stream }, line.line),
        });
        const logKey = buildLogBlobKey(job, attempt);
        await blobs.put(
          logKey,
          createReadStream(result.log.path),
          { contentType: 'text/plain; charset=utf-8' },
          ctx.signal,
        );
        if (!result.ok) {
          const reason = `${result.reason}: ${result.message}`;
          await builds.fail(job, owner, { reason, logKey }, ctx.signal);
          log.warn({ reason, logKey, durations: result.durations }, 'build failed');
          return { outcome: 'failed', reason };
        }
        if (!imageMatchesProfile(result.image, builds.profile))
          throw new BuildEngineError(
            'image',
            `image ${result.image.id} is not the pinned builder ${builds.profile.imageDigest}: check SPOTJOBS_COMPILE_BUILDER_IMAGE`,
          );
        const format = result.artifact.fileName.endsWith('.tbz2') ? 'tbz2' : 'gpkg.tar';
        const key = artifactBlobKey(
          { category: job.category, name: job.nameShort, version: job.version },
          format,
        );
        uploaded = key;
        const artifact = await uploadArtifact(blobs, key, result.artifact, ctx.signal);
        await builds.complete(job, owner, { artifact, logKey }, ctx.signal);
        uploaded = undefined;
        log.info(
          { key, sha256: artifact.sha256, size: artifact.size, durations: result.durations },
          'build ready',
        );
        return { outcome: 'ready', sha256: artifact.sha256, key };
      } catch (err) {
        throw await giveBack(err);
      } finally {
        if (result) {
          // The slot frees once the container is gone: a busy host never piles up containers.
          await result.removed;
          await rm(result.workDir, { recursive: true, force: true });
        }
      }

      // Undo what this attempt left (an unrecorded artifact, the building state) and say how
      // the runner should settle the message. `ctx.signal` has usually aborted: own deadline.
      async function giveBack(err: unknown): Promise<unknown> {
        const cause = ctx.signal.aborted ? (ctx.signal.reason as unknown) : err;
        const signal = AbortSignal.timeout(GIVE_BACK_MS);
        if (uploaded) await blobs.delete(uploaded, signal).catch(() => {});
        if (cause instanceof LeaseLostError || err instanceof LeaseLostError) {
          log.warn({ err }, 'build taken over by another worker: nothing recorded');
          return err;
        }
        const reason = describe(cause);
        try {
          await builds.release(job, owner, { reason }, signal);
          log.warn({ reason }, 'build given back');
        } catch (releaseError) {
          // The claim expires and the reclaim pass finds the record: nothing is lost.
          log.error({ err: releaseError, reason }, 'could not give the build back');
        }
        if (err instanceof BuildEngineError)
          return new RetryJobError(err.message, { delaySeconds: engineRetryDelaySeconds, cause: err });
        return err;
      }
    },
  };
}

function profileText(p: BuilderProfile): string {
  return `${p.imageDigest}/${p.arch}/${p.makeConfProfile}`;
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return String(value);
}
