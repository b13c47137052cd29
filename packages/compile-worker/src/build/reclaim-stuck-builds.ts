import { isAbortError, throwIfAborted } from '@spotjobs/core';
import type { BuildContext } from './build-context.ts';
import { dispatchBuild, withPendingDispatch } from './build-dispatch.ts';
import { buildClaimKey } from './build-message.ts';
import { type BuildRecord, closeAttempts, type VersionedBuild } from './build-record.ts';

/** What one reclaim pass did. */
export interface ReclaimReport {
  /** Active-index entries looked at. */
  readonly scanned: number;
  /** Index entries dropped because their build concluded (or never came to be). */
  readonly cleaned: number;
  /** Queued builds whose enqueue was lost or whose message went unanswered, sent again. */
  readonly redispatched: number;
  /** Building records whose owner is gone, put back to queued and sent again. */
  readonly requeued: number;
  /** Builds given up (too many attempts or enqueues) and marked failed. */
  readonly failed: number;
  /** Entries that raised an error (logged; the pass went on). */
  readonly errors: number;
}

type Action = 'none' | 'cleaned' | 'redispatched' | 'requeued' | 'failed';

/**
 * One pass of the reclaim cron over the active index:
 * - a concluded or missing build: its index entry is dropped;
 * - queued, with an enqueue pending past `enqueueGraceMs`, or sent `redispatchAfterMs` ago and
 *   never started: sent again (after `maxDispatches` sends: failed);
 * - building, when the owner's claim is no longer held and the record has not moved for
 *   `stuckAfterMs`: back to queued and sent again, the attempt closed as `abandoned` (after
 *   `maxAttempts` attempts: failed).
 *
 * Every change is a conditional write, so concurrent passes on several hosts (or a worker that
 * comes back) never double-act: the loser of a write re-reads nothing and moves on.
 *
 * @example
 * ```ts
 * runner.schedule('reclaim-stuck-builds', '*\/5 * * * *', (signal) => builds.reclaimStuck(signal));
 * ```
 */
export async function reclaimStuckBuilds(ctx: BuildContext, signal?: AbortSignal): Promise<ReclaimReport> {
  const counts = { scanned: 0, cleaned: 0, redispatched: 0, requeued: 0, failed: 0, errors: 0 };
  for await (const id of ctx.repository.activeIds(signal)) {
    throwIfAborted(signal);
    counts.scanned++;
    try {
      const action = await reclaimOne(ctx, id, signal);
      if (action !== 'none') counts[action]++;
    } catch (err) {
      if (isAbortError(err)) throw err;
      counts.errors++;
      ctx.logger.error({ err, buildId: id }, 'reclaiming a build failed');
    }
  }
  if (counts.redispatched + counts.requeued + counts.failed > 0) ctx.logger.info(counts, 'reclaim pass');
  return counts;
}

async function reclaimOne(ctx: BuildContext, id: string, signal: AbortSignal | undefined): Promise<Action> {
  const current = await ctx.repository.get(id, signal);
  if (!current || current.record.state === 'ready' || current.record.state === 'failed') {
    await ctx.repository.markInactive(id, signal);
    return 'cleaned';
  }
  const r = current.record;
  const now = ctx.clock.now();
  const { policy } = ctx;
  if (r.state === 'queued') {
    const lost = r.dispatch.pending && now - r.dispatch.at >= policy.enqueueGraceMs;
    // Measured from the last change too: a build released back to queued (interruption) has its
    // message back in the queue from that moment, however old the original send.
    const unanswered =
      !r.dispatch.pending && now - Math.max(r.dispatch.at, r.updatedAt) >= policy.redispatchAfterMs;
    if (!lost && !unanswered) return 'none';
    if (r.dispatch.count >= policy.maxDispatches)
      return giveUp(ctx, current, `never started after ${r.dispatch.count} enqueues`, signal);
    return (await redispatch(ctx, current, withPendingDispatch(r, now), signal)) ? 'redispatched' : 'none';
  }
  // building
  const claim = await ctx.claims.get(buildClaimKey({ buildId: id, generation: r.generation }), signal);
  if (claim?.held || now - r.updatedAt < policy.stuckAfterMs) return 'none';
  const owner = r.workerId ?? 'unknown worker';
  if (r.attempts >= policy.maxAttempts)
    return giveUp(
      ctx,
      current,
      `gave up after ${r.attempts} attempts; the last owner (${owner}) is gone`,
      signal,
    );
  const requeued: BuildRecord = withPendingDispatch(
    {
      ...r,
      state: 'queued',
      workerId: null,
      claimToken: null,
      history: closeAttempts(r.history, 'abandoned', now, { reason: `owner ${owner} gone` }),
    },
    now,
  );
  ctx.logger.warn({ buildId: id, owner, since: r.updatedAt }, 'build owner gone: re-queuing');
  return (await redispatch(ctx, current, requeued, signal)) ? 'requeued' : 'none';
}

async function redispatch(
  ctx: BuildContext,
  current: VersionedBuild,
  next: BuildRecord,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const won = await ctx.repository.update(next, current.version, signal);
  if (!won) return false;
  await dispatchBuild(ctx, won, signal);
  return true;
}

async function giveUp(
  ctx: BuildContext,
  current: VersionedBuild,
  reason: string,
  signal: AbortSignal | undefined,
): Promise<Action> {
  const now = ctx.clock.now();
  const r = current.record;
  const failed: BuildRecord = {
    ...r,
    state: 'failed',
    updatedAt: now,
    finishedAt: now,
    workerId: null,
    claimToken: null,
    dispatch: { ...r.dispatch, pending: false },
    error: { message: reason, at: now },
    retryAfter: now + ctx.policy.failedRetryAfterMs,
    history: closeAttempts(r.history, 'abandoned', now, { reason }),
  };
  const won = await ctx.repository.update(failed, current.version, signal);
  if (!won) return 'none';
  ctx.logger.warn({ buildId: r.id, reason }, 'build given up');
  await ctx.repository.markInactive(r.id, signal);
  return 'failed';
}
