// The job trigger Lambda: S3 `ObjectCreated` events under the input prefixes → AWS Batch
// jobs. A thin composition root: configuration from the environment, the AWS adapters.
import { createLogger } from '@spotjobs/core';
import { loadJobTriggerConfig } from '../trigger-config.ts';
import { composeJobTrigger } from './compose-job-trigger.ts';
import { createS3LambdaHandler } from './lambda-handler.ts';

/** S3 event notification handler of the job trigger (`spotjobs-batch-trigger`). */
export const handler = createS3LambdaHandler(() => {
  const config = loadJobTriggerConfig();
  return composeJobTrigger(config, {
    logger: createLogger({ name: 'spotjobs-batch-trigger', level: config.logLevel }),
  });
});
