// The Lambda deployable: `handler` is the function API Gateway invokes. A thin composition
// root: configuration from the environment, the AWS backend, the shared compile API.
import { createLogger } from '@spotjobs/core';
import { loadConfig } from '../config.ts';
import { awsCompileApi, awsCompileBackend } from './aws-compile.ts';
import { createLambdaHandler } from './lambda-handler.ts';

function compose() {
  const config = loadConfig();
  if (!config.aws) throw new Error('the Lambda needs SPOTJOBS_COMPILE_BACKEND=aws');
  const logger = createLogger({ name: 'spotjobs-compile-api', level: config.logLevel });
  return awsCompileApi(config, awsCompileBackend(config.aws), logger);
}

/** API Gateway REST (v1) proxy handler of the compile API. */
export const handler = createLambdaHandler(compose);
