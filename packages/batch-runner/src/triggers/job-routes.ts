import type { JobSubmission } from '../aws-ports/batch-jobs.ts';
import { formatS3Uri } from '../staging/s3-location.ts';
import { TriggerJobEnv } from './job-environment.ts';
import type { ObjectVersion } from './object-version.ts';

/**
 * Where objects under one key prefix are sent: a job queue and a job definition, single-node
 * or multi-node parallel. The prefix chooses, not the object's metadata: who may write under
 * a prefix is settled by the bucket policy, and metadata would be chosen by the uploader.
 */
export interface JobRoute {
  /** A key prefix ending in `/` (`input/`, `input/mpi/`). The longest matching prefix wins. */
  readonly prefix: string;
  readonly jobQueue: string;
  readonly jobDefinition: string;
  /** A multi-node parallel job definition (its queue must not use Spot: Batch refuses MNP there). */
  readonly multiNode: boolean;
}

/** What the job trigger accepts and where it sends it. */
export interface JobTriggerSettings {
  /** Buckets whose events are accepted; an event from any other bucket is rejected. */
  readonly buckets: readonly string[];
  readonly routes: readonly JobRoute[];
  /** Bucket of the outputs; default the input object's bucket. */
  readonly outputBucket: string | undefined;
  /** Outputs go under `<outputPrefix><job name>/`; objects under it never trigger jobs. Ends in `/`. */
  readonly outputPrefix: string;
}

/** A job to submit for one object version, and where its input and outputs are. */
export interface JobPlan {
  readonly submission: JobSubmission;
  readonly inputUri: string;
  readonly inputVersionId: string | undefined;
  readonly outputUri: string;
}

/**
 * The route for `key`: the longest route prefix it starts with, or undefined.
 *
 * @example
 * ```ts
 * routeFor(settings, 'input/mpi/case.sh')?.multiNode; // true with routes input/ and input/mpi/ (multi-node)
 * ```
 */
export function routeFor(settings: JobTriggerSettings, key: string): JobRoute | undefined {
  let best: JobRoute | undefined;
  for (const route of settings.routes) {
    if (key.startsWith(route.prefix) && (!best || route.prefix.length > best.prefix.length)) best = route;
  }
  return best;
}

const JOB_NAME_BASE_MAX = 100;

/**
 * A Batch job name for an object version: the file name made safe (Batch allows
 * A-Z a-z 0-9 _ -, a letter or digit first, 128 characters) and 16 hex digits of the object
 * version's id, so each version gets its own name and the same version always the same one.
 *
 * @example
 * ```ts
 * jobNameFor('input/run helper.sh', 'c0b9f1e2a3d4c5b6...'); // 'run_helper_sh-c0b9f1e2a3d4c5b6'
 * ```
 */
export function jobNameFor(key: string, objectId: string): string {
  const file = key.slice(key.lastIndexOf('/') + 1);
  const safe = file
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^[_-]+/, '')
    .slice(0, JOB_NAME_BASE_MAX);
  return `${safe || 'job'}-${objectId.slice(0, 16)}`;
}

/**
 * The job for one object version under `route` (pure): the name, the per-job output prefix,
 * and the environment that tells the runner where its input and outputs are.
 *
 * @example
 * ```ts
 * const plan = planJob(settings, route, { bucket: 'jobs', key: 'input/run.sh', version: 'v:3' }, undefined, objectId);
 * plan.outputUri; // 's3://jobs/output/run_sh-<16 hex>/'
 * ```
 */
export function planJob(
  settings: JobTriggerSettings,
  route: JobRoute,
  version: ObjectVersion,
  versionId: string | undefined,
  objectId: string,
  eTag?: string,
): JobPlan {
  const jobName = jobNameFor(version.key, objectId);
  const inputUri = formatS3Uri({ bucket: version.bucket, key: version.key });
  const outputUri = formatS3Uri({
    bucket: settings.outputBucket ?? version.bucket,
    key: `${settings.outputPrefix}${jobName}/`,
  });
  const environment: Record<string, string> = {
    [TriggerJobEnv.inputUri]: inputUri,
    [TriggerJobEnv.outputUri]: outputUri,
    [TriggerJobEnv.triggerId]: objectId,
    ...(versionId ? { [TriggerJobEnv.inputVersionId]: versionId } : {}),
    ...(eTag ? { [TriggerJobEnv.inputETag]: eTag } : {}),
  };
  return {
    submission: {
      jobName,
      jobQueue: route.jobQueue,
      jobDefinition: route.jobDefinition,
      multiNode: route.multiNode,
      environment,
      tags: { 'spotjobs:trigger-id': objectId },
    },
    inputUri,
    inputVersionId: versionId,
    outputUri,
  };
}
