import type { BlobStore, Clock } from '@spotjobs/core';
import type { ClusterStacks } from '../aws-ports/cluster-stacks.ts';
import type { Notifier } from '../aws-ports/notifier.ts';
import type { ParameterPolicy } from './cluster-parameters.ts';

/** How self-service cluster requests are checked and carried out (from `loadTriggerConfig`). */
export interface ClusterSettings {
  /** The user bucket; events from any other bucket are rejected. */
  readonly bucket: string;
  /** Where user folders are (`home/`, ends in `/`). */
  readonly homePrefix: string;
  /** Where per-user customizer profiles are in the customizer bucket (`customizer/`, ends in `/`). */
  readonly customizerPrefix: string;
  /** First part of every stack name (`af` → `af--<uid>--<NAME>`). */
  readonly stackPrefix: string;
  readonly templateUrl: string;
  readonly capabilities: readonly string[];
  readonly policy: ParameterPolicy;
  /** The stack output holding the login address written to `.cf-created`. */
  readonly loginOutput: string;
  /** CloudFormation fails a creation after this long (`TimeoutInMinutes`). */
  readonly createTimeoutMinutes: number;
  /** A deletion still running after this long is reported failed (the stack is left to the admin). */
  readonly deleteTimeoutMinutes: number;
  readonly onFailure: 'DELETE' | 'ROLLBACK' | 'DO_NOTHING';
  /** CloudFormation's service role for cluster stacks; unset: the function's own credentials. */
  readonly roleArn: string | undefined;
  readonly pollIntervalMs: number;
  /** Larger request files are refused unread. */
  readonly maxRequestBytes: number;
  /** `.cf-delete` may also address a stack named just `<NAME>` (made by af-user), if its tags say it is the user's. */
  readonly legacyStackNames: boolean;
}

/** The ports cluster requests go through. */
export interface ClusterPorts {
  /** The user bucket (requests and answers). */
  readonly requests: BlobStore;
  /** The customizer bucket (the per-user gate). */
  readonly customizer: BlobStore;
  readonly stacks: ClusterStacks;
  readonly notifier: Notifier;
  readonly clock: Clock;
}
