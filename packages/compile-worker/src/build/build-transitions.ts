import {
  BackendError,
  blobKeyProblem,
  LeaseLostError,
  throwIfAborted,
  ValidationError,
} from '@spotjobs/core';
import type { BuildContext } from './build-context.ts';
import { appendAttempt, type BuildRecord, closeAttempts, type VersionedBuild } from './build-record.ts';

/** Which build (and generation) a worker is on: the fields of its queue message. */
export interface BuildRef {
  readonly buildId: string;
  readonly generation: number;
}

/**
 * The worker that owns an attempt: its id (for humans and audit) and the fencing token of the
 * claim it holds on `buildClaimKey(ref)` (`ctx.claim.token` in a runner job). Every write after
 * `startBuild` is conditioned on this token still being the record's, so a worker whose claim was
 * taken over can never overwrite its successor's outcome.
 */
export interface BuildOwner {
  readonly workerId: string;
  readonly claimToken: number;
}

export type StartResult =
  | { readonly outcome: 'started'; readonly build: BuildRecord }
  /** Nothing to build: the record concluded, moved to a newer generation, or does not exist. Ack the message. */
  | { readonly outcome: 'superseded'; readonly reason: string; readonly build: BuildRecord | undefined };

export interface BuildArtifact {
  /** The artifact's key in the build BlobStore. */
  readonly key: string;
  /** Lower-case hex sha256 of the artifact's bytes. */
  readonly sha256: string;
  readonly size: number;
}

const MAX_ROUNDS = 5;
const MAX_REASON = 4000;

/**
 * queued → building. Records the attempt (worker, claim token, start time). A record still
 * `building` under an *older* claim token is taken over (its previous owner's claim lapsed and
 * this worker claimed it): the old attempt is closed as `abandoned`. Idempotent for the same
 * owner. Throws `LeaseLostError` if a newer claim already owns the record, or already made an
 * attempt in this generation.
 *
 * @example
 * ```ts
 * const started = await startBuild(ctx, job, { workerId, claimToken: jobCtx.claim!.token }, signal);
 * if (started.outcome === 'superseded') return; // ack: nothing to do
 * ```
 */
export async function startBuild(
  ctx: BuildContext,
  ref: BuildRef,
  owner: BuildOwner,
  signal?: AbortSignal,
): Promise<StartResult> {
  return readDecideWrite(ctx, ref, signal, async (current): Promise<StartResult | undefined> => {
    if (!current) return superseded('no such build', undefined);
    const r = current.record;
    if (r.generation !== ref.generation)
      return superseded(`generation ${r.generation} is current, not ${ref.generation}`, r);
    if (r.state === 'ready' || r.state === 'failed') return superseded(`build is already ${r.state}`, r);
    if (r.state === 'building' && r.claimToken !== null && r.claimToken >= owner.claimToken) {
      if (r.claimToken === owner.claimToken && r.workerId === owner.workerId)
        return { outcome: 'started', build: r };
      throw new LeaseLostError(`build/${r.id}`);
    }
    // Tokens only grow: an owner older than an attempt already made in this generation lost its
    // claim meanwhile (e.g. it slept through a hibernation) even if the record is queued again.
    const newest = Math.max(
      0,
      ...r.history.filter((h) => h.generation === r.generation).map((h) => h.claimToken),
    );
    if (owner.claimToken < newest) throw new LeaseLostError(`build/${r.id}`);
    const now = ctx.clock.now();
    const attempt = r.attempts + 1;
    const next: BuildRecord = {
      ...r,
      state: 'building',
      attempts: attempt,
      totalAttempts: r.totalAttempts + 1,
      updatedAt: now,
      startedAt: now,
      workerId: owner.workerId,
      claimToken: owner.claimToken,
      // A started build has evidently been delivered: no enqueue is pending any more.
      dispatch: { ...r.dispatch, pending: false },
      history: appendAttempt(closeAttempts(r.history, 'abandoned', now, { reason: 'taken over' }), {
        generation: r.generation,
        attempt,
        workerId: owner.workerId,
        claimToken: owner.claimToken,
        startedAt: now,
        endedAt: null,
        outcome: 'building',
        reason: null,
        logKey: null,
      }),
    };
    const written = await ctx.repository.update(next, current.version, signal);
    return written && { outcome: 'started', build: written.record };
  });
}

/**
 * building → ready, with the artifact's key, sha256 and size and the log's key. Conditioned on
 * the owner's claim token; idempotent when repeated by the same owner.
 *
 * @example
 * ```ts
 * await completeBuild(ctx, job, owner, { artifact: { key, sha256, size }, logKey }, signal);
 * ```
 */
export async function completeBuild(
  ctx: BuildContext,
  ref: BuildRef,
  owner: BuildOwner,
  result: { readonly artifact: BuildArtifact; readonly logKey?: string },
  signal?: AbortSignal,
): Promise<BuildRecord> {
  assertArtifact(result.artifact, result.logKey);
  return conclude(ctx, ref, owner, 'ready', signal, (r, now) => ({
    ...r,
    state: 'ready',
    updatedAt: now,
    finishedAt: now,
    artifact: { ...result.artifact },
    log: result.logKey ? { key: result.logKey } : r.log,
    error: null,
    retryAfter: null,
    history: closeAttempts(r.history, 'ready', now, { logKey: result.logKey ?? null }),
  }));
}

/**
 * building → failed, with the reason (the error text the compat API shows) and the log's key.
 * The build may be admitted again after `policy.failedRetryAfterMs`.
 *
 * @example
 * ```ts
 * await failBuild(ctx, job, owner, { reason: 'emerge exited with 1', logKey }, signal);
 * ```
 */
export async function failBuild(
  ctx: BuildContext,
  ref: BuildRef,
  owner: BuildOwner,
  result: { readonly reason: string; readonly logKey?: string },
  signal?: AbortSignal,
): Promise<BuildRecord> {
  if (result.logKey !== undefined) assertKey(result.logKey, 'logKey');
  const reason = truncate(result.reason);
  return conclude(ctx, ref, owner, 'failed', signal, (r, now) => ({
    ...r,
    state: 'failed',
    updatedAt: now,
    finishedAt: now,
    log: result.logKey ? { key: result.logKey } : r.log,
    error: { message: reason, at: now },
    retryAfter: now + ctx.policy.failedRetryAfterMs,
    history: closeAttempts(r.history, 'failed', now, { reason, logKey: result.logKey ?? null }),
  }));
}

/**
 * building → queued, when the worker gives the build back without an outcome (interruption,
 * shutdown): the status reads WAIT again, and the released message brings it to the next worker.
 *
 * @example
 * ```ts
 * await releaseBuild(ctx, job, owner, { reason: 'spot interruption' }, signal);
 * ```
 */
export async function releaseBuild(
  ctx: BuildContext,
  ref: BuildRef,
  owner: BuildOwner,
  details: { readonly reason: string },
  signal?: AbortSignal,
): Promise<BuildRecord> {
  return conclude(ctx, ref, owner, 'queued', signal, (r, now) => ({
    ...r,
    state: 'queued',
    updatedAt: now,
    workerId: null,
    claimToken: null,
    history: closeAttempts(r.history, 'released', now, { reason: truncate(details.reason) }),
  }));
}

/** Writes `next(record)` if `owner` still owns the building record; LeaseLostError otherwise. */
async function conclude(
  ctx: BuildContext,
  ref: BuildRef,
  owner: BuildOwner,
  target: BuildRecord['state'],
  signal: AbortSignal | undefined,
  next: (record: BuildRecord, now: number) => BuildRecord,
): Promise<BuildRecord> {
  const build = await readDecideWrite(ctx, ref, signal, async (current): Promise<BuildRecord | undefined> => {
    const r = current?.record;
    const owned =
      r !== undefined &&
      r.generation === ref.generation &&
      r.claimToken === owner.claimToken &&
      r.workerId === owner.workerId;
    if (owned && r.state === target) return r; // a repeated call (its first answer was lost)
    if (!owned || r.state !== 'building' || !current) throw new LeaseLostError(`build/${ref.buildId}`);
    const written = await ctx.repository.update(next(r, ctx.clock.now()), current.version, signal);
    return written?.record;
  });
  if (target !== 'queued') await ctx.repository.markInactive(ref.buildId, signal);
  return build;
}

/** Reads, decides, writes; reads again when the conditional write lost (`step` answers undefined). */
async function readDecideWrite<T>(
  ctx: BuildContext,
  ref: BuildRef,
  signal: AbortSignal | undefined,
  step: (current: VersionedBuild | undefined) => Promise<T | undefined>,
): Promise<T> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    throwIfAborted(signal);
    const result = await step(await ctx.repository.get(ref.buildId, signal));
    if (result !== undefined) return result;
  }
  throw new BackendError(`build ${ref.buildId} kept changing under its worker`, true);
}

function superseded(reason: string, build: BuildRecord | undefined): StartResult {
  return { outcome: 'superseded', reason, build };
}

function truncate(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}

function assertArtifact(artifact: BuildArtifact, logKey: string | undefined): void {
  assertKey(artifact.key, 'artifact.key');
  if (logKey !== undefined) assertKey(logKey, 'logKey');
  const issues: string[] = [];
  if (!/^[0-9a-f]{64}$/.test(artifact.sha256))
    issues.push('artifact.sha256 must be 64 lower-case hex characters');
  if (!Number.isSafeInteger(artifact.size) || artifact.size < 0)
    issues.push('artifact.size must be a non-negative integer');
  if (issues.length > 0) throw new ValidationError('invalid build result', issues);
}

function assertKey(key: string, name: string): void {
  const problem = blobKeyProblem(key);
  if (problem) throw new ValidationError('invalid build result', [`${name}: ${problem}`]);
}
