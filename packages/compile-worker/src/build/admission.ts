import { BackendError, throwIfAborted } from '@spotjobs/core';
import type { BuildContext } from './build-context.ts';
import { dispatchBuild, withPendingDispatch } from './build-dispatch.ts';
import { buildIdentity } from './build-identity.ts';
import type { BuildRecord, VersionedBuild } from './build-record.ts';
import type { BuildSpec } from './build-spec.ts';

/** How a request met its build. */
export type AdmissionOutcome =
  /** This request created the build and enqueued it. */
  | 'created'
  /** The build had failed; this request admitted its next generation and enqueued it. */
  | 'requeued'
  /** The build exists; nothing was enqueued by this request (except a repair of a lost enqueue). */
  | 'existing'
  /** No such build, and the request may not create one (unauthenticated). Nothing was written. */
  | 'unknown';

export type Admission =
  | {
      readonly outcome: 'created' | 'requeued' | 'existing';
      readonly id: string;
      readonly build: BuildRecord;
    }
  | { readonly outcome: 'unknown'; readonly id: string };

export interface AdmitOptions {
  /** Whether this request may enqueue (create, retry, repair): only authenticated ones may. */
  readonly mayEnqueue: boolean;
  /** Who asks, stored on a build this request creates. */
  readonly requestedBy?: string;
}

// Each round re-reads after losing a conditional write; a handful is plenty, since a loser
// always finds a state written by the winner.
const MAX_ROUNDS = 5;

/**
 * Admits a request for `spec`: answers the existing build, or creates it (conditional write,
 * `ifAbsent`) and enqueues it exactly once however many requests race. Also re-admits a failed
 * build once its `retryAfter` passed, and repairs an enqueue whose enqueuer died (pending
 * marker older than the grace). Requests without `mayEnqueue` only ever read.
 *
 * @example
 * ```ts
 * const admission = await admitBuild(ctx, spec, { mayEnqueue: true, requestedBy: 'api-key:1a2b3c4d' }, signal);
 * if (admission.outcome !== 'unknown') console.log(admission.build.state); // 'queued'
 * ```
 */
export async function admitBuild(
  ctx: BuildContext,
  spec: BuildSpec,
  options: AdmitOptions,
  signal?: AbortSignal,
): Promise<Admission> {
  const id = buildIdentity(spec, ctx.profile);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    throwIfAborted(signal);
    const current = await ctx.repository.get(id, signal);
    if (!current) {
      if (!options.mayEnqueue) return { outcome: 'unknown', id };
      const now = ctx.clock.now();
      // Index first: a crash after it leaves a harmless stale entry; the reverse order could
      // leave an active record the reclaimer never sees.
      await ctx.repository.markActive(id, now, signal);
      const won = await ctx.repository.create(newRecord(ctx, id, spec, now, options.requestedBy), signal);
      if (!won) continue; // another request created it: read what it wrote
      const dispatched = await dispatchBuild(ctx, won, signal);
      return { outcome: 'created', id, build: dispatched.record };
    }
    const decision = options.mayEnqueue ? await tryEnqueueAgain(ctx, current, signal) : 'nothing';
    if (decision === 'lost') continue;
    if (decision === 'nothing') return { outcome: 'existing', id, build: current.record };
    return { outcome: decision.outcome, id, build: decision.build.record };
  }
  throw new BackendError(`build ${id} kept changing under admission`, true);
}

type Decision =
  | 'nothing'
  | 'lost'
  | { readonly outcome: 'requeued' | 'existing'; readonly build: VersionedBuild };

/** A failed build past its retry time, or a queued build with a lost enqueue: win the write, then send. */
async function tryEnqueueAgain(
  ctx: BuildContext,
  current: VersionedBuild,
  signal: AbortSignal | undefined,
): Promise<Decision> {
  const { record } = current;
  const now = ctx.clock.now();
  if (record.state === 'failed' && record.retryAfter !== null && now >= record.retryAfter) {
    await ctx.repository.markActive(record.id, now, signal);
    // The next generation: its claim key is new, so it can be claimed although the failed
    // generation's claim was completed.
    const next: BuildRecord = {
      ...record,
      state: 'queued',
      generation: record.generation + 1,
      attempts: 0,
      updatedAt: now,
      queuedAt: now,
      startedAt: null,
      finishedAt: null,
      workerId: null,
      claimToken: null,
      error: null,
      retryAfter: null,
      dispatch: { pending: true, at: now, count: 0, messageId: null },
    };
    const won = await ctx.repository.update(next, current.version, signal);
    if (!won) return 'lost';
    return { outcome: 'requeued', build: await dispatchBuild(ctx, won, signal) };
  }
  if (
    record.state === 'queued' &&
    record.dispatch.pending &&
    now - record.dispatch.at >= ctx.policy.enqueueGraceMs
  ) {
    const won = await ctx.repository.update(withPendingDispatch(record, now), current.version, signal);
    if (!won) return 'lost';
    ctx.logger.warn(
      { buildId: record.id, since: record.dispatch.at },
      'enqueue was never confirmed: enqueuing again',
    );
    return { outcome: 'existing', build: await dispatchBuild(ctx, won, signal) };
  }
  return 'nothing';
}

function newRecord(
  ctx: BuildContext,
  id: string,
  spec: BuildSpec,
  now: number,
  requestedBy: string | undefined,
): BuildRecord {
  return {
    schema: 1,
    id,
    category: spec.category,
    name: spec.name,
    version: spec.version,
    use: [...spec.use],
    profile: { ...ctx.profile },
    state: 'queued',
    generation: 1,
    attempts: 0,
    totalAttempts: 0,
    createdAt: now,
    updatedAt: now,
    queuedAt: now,
    startedAt: null,
    finishedAt: null,
    dispatch: { pending: true, at: now, count: 0, messageId: null },
    workerId: null,
    claimToken: null,
    artifact: null,
    log: null,
    error: null,
    retryAfter: null,
    requestedBy: requestedBy ?? null,
    history: [],
  };
}
