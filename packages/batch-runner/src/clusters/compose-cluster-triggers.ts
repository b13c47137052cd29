import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SESClient } from '@aws-sdk/client-ses';
import { ClaimStore, type Clock, type Logger, silentLogger, systemClock } from '@spotjobs/core';
import { DynamoTable, S3BlobStore } from '@spotjobs/core/aws';
import { CloudFormationClusterStacks } from '../aws-ports/cloudformation-cluster-stacks.ts';
import type { ClusterStacks } from '../aws-ports/cluster-stacks.ts';
import { LogNotifier, type Notifier } from '../aws-ports/notifier.ts';
import { SesNotifier } from '../aws-ports/ses-notifier.ts';
import type { ClusterTriggerConfig } from '../trigger-config.ts';
import { Admission } from '../triggers/admission.ts';
import { TRIGGER_CLAIM_PARTITION } from '../triggers/compose-job-trigger.ts';
import { type CreatePlan, clusterCreateSteps } from './cluster-create.ts';
import { clusterDeleteSteps, type DeletePlan } from './cluster-delete.ts';
import type { ClusterRequest } from './cluster-request.ts';
import type { ClusterPorts } from './cluster-settings.ts';

/** What to use instead of the defaults built from the configuration (tests, custom clients). */
export interface ClusterTriggerOverrides {
  readonly s3?: S3Client;
  readonly dynamodb?: DynamoDBClient;
  readonly cloudformation?: CloudFormationClient;
  readonly ses?: SESClient;
  /** Replace the CloudFormation / SES adapters altogether. */
  readonly stacks?: ClusterStacks;
  readonly notifier?: Notifier;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** The two cluster request handlers, sharing their ports. */
export interface ClusterTriggers {
  readonly create: Admission<ClusterRequest, CreatePlan>;
  readonly delete: Admission<ClusterRequest, DeletePlan>;
}

/**
 * The self-service cluster handlers on AWS: requests and answers in the user bucket and the
 * gate in the customizer bucket (S3), claims in DynamoDB, stacks through CloudFormation,
 * notices through SES when configured (else the log).
 *
 * @example
 * ```ts
 * const { create, delete: remove } = composeClusterTriggers(loadClusterTriggerConfig());
 * ```
 */
export function composeClusterTriggers(
  config: ClusterTriggerConfig,
  overrides: ClusterTriggerOverrides = {},
): ClusterTriggers {
  const logger = overrides.logger ?? silentLogger;
  const clock = overrides.clock ?? systemClock;
  const s3 = overrides.s3 ?? new S3Client({ forcePathStyle: config.forcePathStyle });
  const table = new DynamoTable({
    client: overrides.dynamodb ?? new DynamoDBClient({}),
    tableName: config.tableName,
  });
  const claims = new ClaimStore({ table, clock, partition: TRIGGER_CLAIM_PARTITION });
  const notify = config.notify;
  const ports: ClusterPorts = {
    requests: new S3BlobStore({ client: s3, bucket: config.clusters.bucket }),
    customizer: new S3BlobStore({ client: s3, bucket: config.customizerBucket }),
    stacks:
      overrides.stacks ??
      new CloudFormationClusterStacks({
        client: overrides.cloudformation ?? new CloudFormationClient({}),
        retry: { clock },
      }),
    notifier:
      overrides.notifier ??
      (notify
        ? new SesNotifier({
            client: overrides.ses ?? new SESClient(notify.region ? { region: notify.region } : {}),
            from: notify.from,
            to: notify.to,
            replyTo: notify.replyTo,
            retry: { clock },
          })
        : new LogNotifier(logger.child({ notices: 'clusters' }))),
    clock,
  };
  const options = { claims, claimTtlMs: config.claimTtlMs, logger };
  return {
    create: new Admission(clusterCreateSteps(config.clusters, ports), options),
    delete: new Admission(clusterDeleteSteps(config.clusters, ports), options),
  };
}
