import { BatchClient } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ClaimStore, type Clock, type Logger, systemClock } from '@spotjobs/core';
import { DynamoTable } from '@spotjobs/core/aws';
import { AwsBatchJobs } from '../aws-ports/aws-batch-jobs.ts';
import type { BatchJobs } from '../aws-ports/batch-jobs.ts';
import type { JobTriggerConfig } from '../trigger-config.ts';
import { Admission } from './admission.ts';
import type { JobPlan } from './job-routes.ts';
import { type JobRequest, jobSubmissionSteps } from './job-submission.ts';

/** The partition of the trigger Table holding the triggers' claims. */
export const TRIGGER_CLAIM_PARTITION = 'spotjobs-triggers';

/** What to use instead of the defaults built from the configuration (tests, custom clients). */
export interface JobTriggerOverrides {
  readonly dynamodb?: DynamoDBClient;
  readonly batch?: BatchClient;
  /** Replaces the AWS Batch adapter altogether. */
  readonly jobs?: BatchJobs;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * The S3 → AWS Batch trigger on AWS: claims in DynamoDB (`config.tableName`), jobs through
 * the Batch API. SDK clients default to their own settings (region and credentials from the
 * Lambda's environment). This file and the Lambda entry are the only ones of the job trigger
 * that construct SDK clients.
 *
 * @example
 * ```ts
 * const admission = composeJobTrigger(loadJobTriggerConfig());
 * ```
 */
export function composeJobTrigger(
  config: JobTriggerConfig,
  overrides: JobTriggerOverrides = {},
): Admission<JobRequest, JobPlan> {
  const table = new DynamoTable({
    client: overrides.dynamodb ?? new DynamoDBClient({}),
    tableName: config.tableName,
  });
  const clock = overrides.clock ?? systemClock;
  const claims = new ClaimStore({ table, clock, partition: TRIGGER_CLAIM_PARTITION });
  const jobs =
    overrides.jobs ?? new AwsBatchJobs({ client: overrides.batch ?? new BatchClient({}), retry: { clock } });
  return new Admission(jobSubmissionSteps(config.jobs, jobs), {
    claims,
    claimTtlMs: config.claimTtlMs,
    ...(overrides.logger ? { logger: overrides.logger } : {}),
  });
}
