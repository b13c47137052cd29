// The self-service cluster Lambdas (af-user's cf-create and cf-delete): S3 `ObjectCreated`
// events for `home/<uid>/<NAME>.cf-create` / `.cf-delete`. Two functions, as af-user had,
// because a creation waits for its stack (give it Lambda's 15 minutes) and a deletion less.
import { createLogger } from '@spotjobs/core';
import { loadClusterTriggerConfig } from '../trigger-config.ts';
import { createS3LambdaHandler } from '../triggers/lambda-handler.ts';
import { type ClusterTriggers, composeClusterTriggers } from './compose-cluster-triggers.ts';

let triggers: ClusterTriggers | undefined;
function compose(): ClusterTriggers {
  if (!triggers) {
    const config = loadClusterTriggerConfig();
    triggers = composeClusterTriggers(config, {
      logger: createLogger({ name: 'spotjobs-cluster-requests', level: config.logLevel }),
    });
  }
  return triggers;
}

/** S3 event notification handler for `.cf-create` requests. */
export const createHandler = createS3LambdaHandler(() => compose().create);

/** S3 event notification handler for `.cf-delete` requests. */
export const deleteHandler = createS3LambdaHandler(() => compose().delete);
