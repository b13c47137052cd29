import type { JsonObject } from '@spotjobs/core';
import type { BatchJobs, SubmittedJob } from '../aws-ports/batch-jobs.ts';
import { inputKeyProblem } from '../staging/s3-location.ts';
import type { AdmissionSteps } from './admission-types.ts';
import { type JobPlan, type JobRoute, type JobTriggerSettings, planJob, routeFor } from './job-routes.ts';
import { objectVersionOf } from './object-version.ts';
import { isObjectCreated, type S3ObjectEvent } from './s3-event.ts';

/** An object admitted by the job trigger: the record and the route its key selected. */
export interface JobRequest {
  readonly record: S3ObjectEvent;
  readonly route: JobRoute;
}

/**
 * The job trigger's steps: an object created under a route's prefix becomes one AWS Batch
 * job (single- or multi-node by route), with the object as input and its own output prefix.
 *
 * - validate: `ObjectCreated:*` only; folder markers and outputs ignored; the bucket must be
 *   configured; the key must be safe (no `.`/`..` or empty segment, no control character, no
 *   percent-encoded slash, backslash or dot segment left after the event's decoding);
 * - decide: the job plan (pure);
 * - act: SubmitJob. After an earlier attempt died mid-way (`resumed`), Batch is first asked
 *   for a job of the same name (names are deterministic per object version), and a job found
 *   is adopted instead of submitting a second one.
 *
 * @example
 * ```ts
 * const admission = new Admission(jobSubmissionSteps(settings, new AwsBatchJobs({ client })), { claims });
 * ```
 */
export function jobSubmissionSteps(
  settings: JobTriggerSettings,
  jobs: BatchJobs,
): AdmissionSteps<JobRequest, JobPlan> {
  return {
    name: 'batch-job',
    validate(record) {
      if (!isObjectCreated(record))
        return { kind: 'ignore', reason: `${record.eventName} is not an object creation` };
      if (record.key.endsWith('/')) return { kind: 'ignore', reason: 'a folder marker' };
      if (!settings.buckets.includes(record.bucket))
        return { kind: 'reject', reason: `bucket ${record.bucket} is not one of the trigger's buckets` };
      const problem = inputKeyProblem(record.key);
      if (problem) return { kind: 'reject', reason: problem };
      if (
        (settings.outputBucket ?? record.bucket) === record.bucket &&
        record.key.startsWith(settings.outputPrefix)
      )
        return { kind: 'ignore', reason: 'an output of an earlier job' };
      const route = routeFor(settings, record.key);
      if (!route) return { kind: 'ignore', reason: 'under no input prefix' };
      return { kind: 'admit', request: { record, route } };
    },
    async decide(request, ctx) {
      const version = objectVersionOf(request.record);
      if (!version) return { kind: 'refuse', reason: 'no object version' };
      return {
        kind: 'proceed',
        plan: planJob(
          settings,
          request.route,
          version,
          request.record.versionId,
          ctx.objectId,
          request.record.eTag,
        ),
      };
    },
    async act(plan, ctx) {
      const { jobQueue, jobName } = plan.submission;
      if (ctx.resumed) {
        const earlier = await jobs.findByName(jobQueue, jobName, ctx.signal);
        if (earlier) {
          ctx.logger.info({ jobId: earlier.jobId, jobName }, 'adopted the job an earlier attempt submitted');
          return jobResult(plan, earlier, true);
        }
      }
      await ctx.keepAlive();
      const job = await jobs.submit(plan.submission, ctx.signal);
      ctx.logger.info(
        { jobId: job.jobId, jobName, jobQueue, multiNode: plan.submission.multiNode },
        'job submitted',
      );
      return jobResult(plan, job, false);
    },
    async refuse() {
      return {};
    },
  };
}

function jobResult(plan: JobPlan, job: SubmittedJob, adopted: boolean): JsonObject {
  return {
    jobId: job.jobId,
    jobName: job.jobName,
    jobQueue: plan.submission.jobQueue,
    jobDefinition: plan.submission.jobDefinition,
    multiNode: plan.submission.multiNode,
    input: plan.inputUri,
    ...(plan.inputVersionId ? { inputVersionId: plan.inputVersionId } : {}),
    output: plan.outputUri,
    ...(adopted ? { adopted: true } : {}),
  };
}
