import type { Clock } from '@spotjobs/core';
import type { ClusterStacks, StackInfo } from '../aws-ports/cluster-stacks.ts';

/** Where a stack stands for the operation being waited on. */
export type StackPhase = 'working' | 'ready' | 'failed' | 'deleted';

// A creation is over when the stack is usable (any *_COMPLETE but a rollback's or a
// deletion's) or when it failed: CREATE_FAILED, a rollback, or (with OnFailure=DELETE) a
// deletion. Seeing ROLLBACK_IN_PROGRESS is enough to report: the cause is in the events already.
const CREATE_READY = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_COMPLETE',
]);
const CREATE_FAILED = new Set([
  'CREATE_FAILED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_FAILED',
  'ROLLBACK_COMPLETE',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
  'DELETE_COMPLETE',
  'UPDATE_ROLLBACK_FAILED',
  'IMPORT_ROLLBACK_FAILED',
]);

/**
 * The phase of `status` for a creation or a deletion; `undefined` (no stack) counts as
 * deleted for a deletion and failed for a creation.
 *
 * @example
 * ```ts
 * stackPhase('create', 'ROLLBACK_IN_PROGRESS'); // 'failed'
 * stackPhase('delete', 'DELETE_COMPLETE');      // 'deleted'
 * ```
 */
export function stackPhase(goal: 'create' | 'delete', status: string | undefined): StackPhase {
  if (goal === 'create') {
    if (status === undefined) return 'failed';
    if (CREATE_READY.has(status)) return 'ready';
    return CREATE_FAILED.has(status) ? 'failed' : 'working';
  }
  if (status === undefined || status === 'DELETE_COMPLETE') return 'deleted';
  return status === 'DELETE_FAILED' ? 'failed' : 'working';
}

export interface StackWaitOptions {
  readonly goal: 'create' | 'delete';
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  /**
   * Wall-clock epoch ms after which a stack still working is reported `overdue`, computed
   * from the stack itself (creation or deletion time), so a wait that resumes in a later
   * invocation keeps the same bound.
   */
  readonly overdueAt: (stack: StackInfo) => number;
  readonly signal: AbortSignal;
  /** Called before each pause: renews the request's claim. */
  readonly keepAlive: () => Promise<void>;
}

export type StackWaitResult =
  | { readonly phase: 'ready' | 'failed' | 'deleted'; readonly stack: StackInfo | undefined }
  | { readonly phase: 'overdue'; readonly stack: StackInfo };

/**
 * Polls DescribeStacks until the stack is ready, failed or deleted, or past its bound
 * (`overdue`). It never spins forever: af-user's loop waited for CREATE_COMPLETE only, so a
 * failed stack kept it busy until the Lambda timed out. Aborting `signal` (the invocation's
 * deadline) ends the wait with the abort error; the request is then retried and the wait
 * resumes against the same bound.
 *
 * @example
 * ```ts
 * const result = await waitForStack(stacks, stackId, { goal: 'create', clock, pollIntervalMs: 10_000, overdueAt, signal, keepAlive });
 * ```
 */
export async function waitForStack(
  stacks: ClusterStacks,
  stackId: string,
  options: StackWaitOptions,
): Promise<StackWaitResult> {
  for (;;) {
    const stack = await stacks.describe(stackId, options.signal);
    const phase = stackPhase(options.goal, stack?.status);
    if (phase !== 'working') return { phase, stack };
    if (stack && options.clock.now() >= options.overdueAt(stack)) return { phase: 'overdue', stack };
    await options.keepAlive();
    await options.clock.sleep(options.pollIntervalMs, options.signal);
  }
}

/**
 * Why a stack operation failed, for the user: `<status>: <cause>`, the cause being the first
 * failed resource in the stack's events, else the stack's own status reason.
 *
 * @example
 * ```ts
 * await stackFailure(stacks, stackId, 'delete', result.stack, 'DELETE_FAILED', signal);
 * // 'DELETE_FAILED: <the first failed resource and why>'
 * ```
 */
export async function stackFailure(
  stacks: ClusterStacks,
  stackId: string,
  operation: 'create' | 'delete',
  stack: StackInfo | undefined,
  statusIfGone: string,
  signal: AbortSignal,
): Promise<string> {
  const cause = await stacks.failureReason(stackId, operation, signal);
  return `${stack?.status ?? statusIfGone}: ${cause ?? stack?.statusReason ?? 'no reason given'}`;
}
