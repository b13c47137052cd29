// The body of `spotjobs-batch-runner` (loaded by src/runner-main.ts once the compile cache is
// on): a thin composition root over runJob. Its own logs are JSON lines on stderr; the app's
// output is streamed to stdout/stderr as it comes. The AWS SDK clients are loaded only when
// the run needs them, so a node without S3 or secrets starts fast.
import { tmpdir } from 'node:os';
import { type BlobStore, createLogger, InterruptedError } from '@spotjobs/core';
import { loadRunnerConfigOrExit } from '../runner-config.ts';
import type { SecretResolver } from '../secrets/secret-resolver.ts';
import type { BlobStoreForBucket } from '../staging/stage-inputs.ts';
import { runJob } from './run-job.ts';

const program = 'spotjobs-batch-runner';
const config = loadRunnerConfigOrExit(program, tmpdir());
const logger = createLogger({ name: program, level: config.logLevel, destination: 2 });

// SIGTERM (Batch TerminateJob, a job timeout, ECS stopping the task) winds the run down:
// the app gets it too, then partial outputs and time.log are uploaded. A second one exits now.
const termination = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (termination.signal.aborted) {
    logger.warn({ signal }, 'second termination signal: exiting without uploading');
    logger.flush();
    process.exit(config.termination.exitCode);
  }
  logger.warn({ signal }, 'termination requested: stopping the app, then uploading what exists');
  termination.abort(new InterruptedError(`received ${signal}`));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

let blobsFor: BlobStoreForBucket | undefined;
if (config.inputs || config.outputDestination) {
  const [{ S3Client }, { S3BlobStore }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@spotjobs/core/aws'),
  ]);
  // Endpoint and region come from the SDK's usual sources (AWS_REGION, AWS_ENDPOINT_URL_S3).
  const client = new S3Client({ forcePathStyle: config.s3ForcePathStyle });
  const stores = new Map<string, BlobStore>();
  blobsFor = (bucket) => {
    let store = stores.get(bucket);
    if (!store) {
      store = new S3BlobStore({ client, bucket });
      stores.set(bucket, store);
    }
    return store;
  };
}

let secretResolver: SecretResolver = {
  resolve: () => Promise.reject(new Error('no secret references are configured')),
};
if (config.secrets.size > 0 || config.rendezvous.secret) {
  const [{ SecretsManagerClient }, { SSMClient }, { AwsSecretResolver }] = await Promise.all([
    import('@aws-sdk/client-secrets-manager'),
    import('@aws-sdk/client-ssm'),
    import('../secrets/aws-secret-resolver.ts'),
  ]);
  secretResolver = new AwsSecretResolver({
    secretsManager: new SecretsManagerClient({}),
    ssm: new SSMClient({}),
  });
}

const exitCode = await runJob(config, {
  logger,
  blobsFor,
  secretResolver,
  terminated: termination.signal,
  stdout: process.stdout,
  stderr: process.stderr,
});
logger.info({ exitCode }, 'run finished');
logger.flush();
process.exit(exitCode);
