import { z } from 'zod';
import { builderProfileSchema } from './builder-profile.ts';

/**
 * The states of a build:
 *
 * ```
 *            admit (ifAbsent)        start (claim)          complete
 *   (none) ──────────────────► queued ─────────► building ───────────► ready
 *                                ▲  ▲               │  │ fail
 *          retry after failure   │  └── release ────┘  └──────────────► failed
 *          (next generation) ────┼──── reclaim (owner gone) ◄─┘              │
 *                                └────────────────────────────────────────────┘
 * ```
 */
export const BUILD_STATES = ['queued', 'building', 'ready', 'failed'] as const;
export type BuildState = (typeof BUILD_STATES)[number];

const nullableString = z.string().nullable();
const epochMs = z.number().int().min(0);

/** One try at building: who, when, how it ended. The newest 20 are kept in `history`. */
export const attemptRecordSchema = z.object({
  generation: z.number().int().min(1),
  attempt: z.number().int().min(1),
  workerId: z.string(),
  claimToken: z.number().int(),
  startedAt: epochMs,
  endedAt: epochMs.nullable(),
  outcome: z.enum(['building', 'ready', 'failed', 'released', 'abandoned']),
  reason: nullableString,
  logKey: nullableString,
});
export type AttemptRecord = z.infer<typeof attemptRecordSchema>;

/** The newest attempts a record keeps (the item must stay far below DynamoDB's 400 KB). */
export const MAX_HISTORY = 20;

/**
 * The `dispatch` marker that makes "write state, then enqueue" crash-safe: `pending` from the
 * conditional write that decided to enqueue until the enqueue is confirmed. A marker pending for
 * longer than the enqueue grace means the enqueuer died (or its send failed): whoever wins a
 * conditional write on it enqueues again (`at` is then the new attempt's time).
 */
export const dispatchSchema = z.object({
  pending: z.boolean(),
  /** When the current (pending) or last (confirmed) enqueue was decided, epoch ms. */
  at: epochMs,
  /** Confirmed enqueues of this record so far. */
  count: z.number().int().min(0),
  messageId: nullableString,
});
export type DispatchMarker = z.infer<typeof dispatchSchema>;

/**
 * A build's state item (Table key `{ pk: 'build#<id>', sk: 'state' }`). Written only through
 * conditional writes on its version, so every transition is decided once.
 */
export const buildRecordSchema = z.object({
  schema: z.literal(1),
  id: z.string(),
  category: z.string(),
  name: z.string(),
  version: z.string(),
  use: z.array(z.string()),
  profile: builderProfileSchema,
  state: z.enum(BUILD_STATES),
  /** Starts at 1; +1 each time a failed build is admitted again. */
  generation: z.number().int().min(1),
  /** Attempts started in this generation (takeovers included). */
  attempts: z.number().int().min(0),
  totalAttempts: z.number().int().min(0),
  createdAt: epochMs,
  updatedAt: epochMs,
  queuedAt: epochMs,
  startedAt: epochMs.nullable(),
  finishedAt: epochMs.nullable(),
  dispatch: dispatchSchema,
  workerId: nullableString,
  claimToken: z.number().int().nullable(),
  artifact: z.object({ key: z.string(), sha256: z.string(), size: z.number().int().min(0) }).nullable(),
  log: z.object({ key: z.string() }).nullable(),
  error: z.object({ message: z.string(), at: epochMs }).nullable(),
  /** A failed build may be admitted again from this time on. */
  retryAfter: epochMs.nullable(),
  /** Who first asked (`api-key:<fingerprint>`, `iam:<arn>`...), for audit. */
  requestedBy: nullableString,
  history: z.array(attemptRecordSchema).max(MAX_HISTORY),
});
export type BuildRecord = z.infer<typeof buildRecordSchema>;

/** A record with the Table version it was read or written at (the precondition of the next write). */
export interface VersionedBuild {
  readonly record: BuildRecord;
  readonly version: number;
}

/** `history` with `entry` appended, keeping the newest `MAX_HISTORY`. */
export function appendAttempt(history: readonly AttemptRecord[], entry: AttemptRecord): AttemptRecord[] {
  return [...history, entry].slice(-MAX_HISTORY);
}

/** `history` with its open (`building`) entries closed as `outcome` at `at`. */
export function closeAttempts(
  history: readonly AttemptRecord[],
  outcome: Exclude<AttemptRecord['outcome'], 'building'>,
  at: number,
  details: { readonly reason?: string | null; readonly logKey?: string | null } = {},
): AttemptRecord[] {
  return history.map((entry) =>
    entry.outcome === 'building'
      ? { ...entry, outcome, endedAt: at, reason: details.reason ?? null, logKey: details.logKey ?? null }
      : entry,
  );
}
