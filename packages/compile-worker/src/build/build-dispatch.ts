import type { BuildContext } from './build-context.ts';
import { toBuildMessage } from './build-message.ts';
import type { BuildRecord, VersionedBuild } from './build-record.ts';

/** The message attribute that names the build, for tracing a message without parsing its body. */
export const BUILD_ID_ATTRIBUTE = 'spotjobs.buildId';

/**
 * `record` with a fresh pending dispatch marker: the caller conditionally writes it, and the
 * writer that wins is the one (and only one) that enqueues.
 */
export function withPendingDispatch(record: BuildRecord, now: number): BuildRecord {
  return { ...record, updatedAt: now, dispatch: { ...record.dispatch, pending: true, at: now } };
}

/**
 * Enqueues the build whose pending marker this caller just won, then confirms the marker.
 *
 * ```
 * request A: put(queued, pending, ifAbsent) ✓ ── send ✓ ── put(confirmed, ifVersion) ✓
 * request B: put(queued, pending, ifAbsent) ✗ (reads A's record: WAIT, no send)
 * A dies between put and send: the marker stays pending; after enqueueGraceMs the next
 * authenticated request (or the reclaim cron) wins a conditional write on it and sends again.
 * A dies between send and confirm: the same, so one extra message: claims make it a no-op.
 * ```
 *
 * A failed confirm (the worker already moved the record on) is fine: starting a build clears the
 * marker itself. A failed send rejects, leaving the marker pending for the next attempt.
 */
export async function dispatchBuild(
  ctx: BuildContext,
  won: VersionedBuild,
  signal?: AbortSignal,
): Promise<VersionedBuild> {
  const { record } = won;
  const message = toBuildMessage(record, record.profile, {
    buildId: record.id,
    generation: record.generation,
    requestedAt: record.dispatch.at,
  });
  const [messageId = null] = await ctx.queue.send(
    [{ body: JSON.stringify(message), attributes: { [BUILD_ID_ATTRIBUTE]: record.id } }],
    signal,
  );
  ctx.logger.info({ buildId: record.id, generation: record.generation, messageId }, 'build enqueued');
  const now = ctx.clock.now();
  const confirmed: BuildRecord = {
    ...record,
    updatedAt: now,
    dispatch: { pending: false, at: record.dispatch.at, count: record.dispatch.count + 1, messageId },
  };
  const written = await ctx.repository.update(confirmed, won.version, signal);
  if (written) return written;
  return (await ctx.repository.get(record.id, signal)) ?? won;
}
