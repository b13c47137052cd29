import { SpotjobsError } from '@spotjobs/core';

/**
 * `ClusterStacks`: the CloudFormation calls behind self-service clusters.
 *
 * Semantics every adapter honours:
 * - `create` is idempotent: with the same `clientRequestToken` a retry does not start a
 *   second creation, and a stack that already exists under the name is not an error: the
 *   answer says `created: false` with the existing stack's id, and the caller decides (by its
 *   tags) whether that stack is the requester's. A request CloudFormation refuses for good
 *   (template validation, missing capabilities, limits) rejects with `StackRejectedError`.
 * - `describe` answers undefined for a stack that does not exist; by stack id, a deleted
 *   stack is still described (`DELETE_COMPLETE`).
 * - `failureReason` reads the stack's events and names the first resource that failed in
 *   the last `create` or `delete` operation (the root cause, not the cascade after it).
 * - `delete` is idempotent (deleting a deleted stack succeeds).
 * - Throttling is retried inside; what still fails is a `@spotjobs/core` error.
 *
 * Adapters: `CloudFormationClusterStacks` (SDK v3), `MemoryClusterStacks` (tests).
 *
 * @example
 * ```ts
 * const { stackId } = await stacks.create({ stackName, templateUrl, parameters, capabilities: ['CAPABILITY_IAM'], tags, clientRequestToken });
 * const stack = await stacks.describe(stackId);
 * ```
 */
export interface ClusterStacks {
  create(spec: StackSpec, signal?: AbortSignal): Promise<{ stackId: string; created: boolean }>;
  describe(stackNameOrId: string, signal?: AbortSignal): Promise<StackInfo | undefined>;
  failureReason(
    stackId: string,
    operation: 'create' | 'delete',
    signal?: AbortSignal,
  ): Promise<string | undefined>;
  delete(stackId: string, clientRequestToken: string, signal?: AbortSignal): Promise<void>;
}

export interface StackSpec {
  readonly stackName: string;
  readonly templateUrl: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly capabilities: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** 1–128 of A-Z a-z 0-9 -, starting with a letter or digit (CloudFormation's rule). */
  readonly clientRequestToken: string;
  /** CloudFormation fails the creation after this long (`TimeoutInMinutes`). */
  readonly timeoutMinutes: number;
  /** What CloudFormation does with a failed creation: `DELETE` cleans up, `ROLLBACK` keeps the stack for inspection. */
  readonly onFailure: 'DELETE' | 'ROLLBACK' | 'DO_NOTHING';
  /**
   * The service role CloudFormation uses for the stack's resources (`RoleARN`), so the
   * function itself needs only `iam:PassRole` on it, not the template's rights (af-user's
   * Lambda held IAM role creation and `PassRole *`).
   */
  readonly roleArn?: string;
}

export interface StackInfo {
  readonly stackId: string;
  readonly stackName: string;
  /** CloudFormation's `StackStatus`: `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `ROLLBACK_COMPLETE`... */
  readonly status: string;
  readonly statusReason: string | undefined;
  readonly createdAt: Date;
  /** Set once a deletion started. */
  readonly deletedAt: Date | undefined;
  readonly tags: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, string>>;
}

/**
 * CloudFormation refused a stack request for good (the template rejects a parameter, a
 * capability is missing, an account limit is reached): retrying the same request cannot help.
 */
export class StackRejectedError extends SpotjobsError {
  readonly code = 'STACK_REJECTED';
  readonly stackName: string;
  readonly reason: string;
  constructor(stackName: string, reason: string, options?: { cause?: unknown }) {
    super(`CloudFormation refused ${stackName}: ${reason}`, options);
    this.stackName = stackName;
    this.reason = reason;
  }
}
