import {
  type BatchClient,
  type KeyValuePair,
  ListJobsCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import type { AwsRetryOptions } from './aws-call.ts';
import { callAws } from './aws-call.ts';
import type { BatchJobs, JobSubmission, SubmittedJob } from './batch-jobs.ts';

export interface AwsBatchJobsOptions {
  readonly client: BatchClient;
  readonly retry?: AwsRetryOptions;
}

/**
 * `BatchJobs` on AWS Batch with the SDK v3. Errors come back as `@spotjobs/core` errors
 * (`BackendError` with `retryable` for throttling and 5xx, after retries; `ValidationError`
 * for a refused request).
 *
 * No emulator speaks the Batch API, so this adapter is unit-tested on the requests it builds
 * and the errors it translates.
 *
 * @example
 * ```ts
 * const jobs = new AwsBatchJobs({ client: new BatchClient({}) });
 * await jobs.submit({ jobName, jobQueue: 'jobs', jobDefinition: 'runner', multiNode: false, environment: {} });
 * ```
 */
export class AwsBatchJobs implements BatchJobs {
  readonly #client: BatchClient;
  readonly #retry: AwsRetryOptions;

  constructor(options: AwsBatchJobsOptions) {
    this.#client = options.client;
    this.#retry = options.retry ?? {};
  }

  async submit(job: JobSubmission, signal?: AbortSignal): Promise<SubmittedJob> {
    const out = await callAws(
      (abortSignal) => this.#client.send(new SubmitJobCommand(submitJobInput(job)), { abortSignal }),
      { operation: 'SubmitJob', key: job.jobName, container: job.jobQueue, signal },
      this.#retry,
    );
    return {
      jobId: out.jobId ?? '',
      jobName: out.jobName ?? job.jobName,
      ...(out.jobArn ? { jobArn: out.jobArn } : {}),
    };
  }

  async findByName(
    jobQueue: string,
    jobName: string,
    signal?: AbortSignal,
  ): Promise<SubmittedJob | undefined> {
    const out = await callAws(
      (abortSignal) =>
        this.#client.send(
          // With a filter, Batch ignores jobStatus and lists jobs in every state, newest first;
          // the JOB_NAME filter matches case-insensitively, so the name is compared again below.
          new ListJobsCommand({
            jobQueue,
            filters: [{ name: 'JOB_NAME', values: [jobName] }],
            maxResults: 100,
          }),
          { abortSignal },
        ),
      { operation: 'ListJobs', key: jobName, container: jobQueue, signal },
      this.#retry,
    );
    const found = (out.jobSummaryList ?? []).find((j) => j.jobName === jobName && j.jobId);
    if (!found?.jobId) return undefined;
    return { jobId: found.jobId, jobName, ...(found.jobArn ? { jobArn: found.jobArn } : {}) };
  }
}

/**
 * The SubmitJob request for `job`: the environment (sorted, for stable requests) goes to the
 * container, or to every node of a multi-node parallel job (`targetNodes: '0:'`), as SCAR did.
 *
 * @example
 * ```ts
 * submitJobInput({ jobName: 'run-1', jobQueue: 'q', jobDefinition: 'mnp', multiNode: true, environment: { A: '1' } });
 * // { ..., nodeOverrides: { nodePropertyOverrides: [{ targetNodes: '0:', containerOverrides: { environment: [{ name: 'A', value: '1' }] } }] } }
 * ```
 */
export function submitJobInput(job: JobSubmission) {
  const environment: KeyValuePair[] = Object.keys(job.environment)
    .sort()
    .map((name) => ({ name, value: job.environment[name] }));
  const tags = job.tags && Object.keys(job.tags).length > 0 ? { tags: { ...job.tags } } : {};
  const common = { jobName: job.jobName, jobQueue: job.jobQueue, jobDefinition: job.jobDefinition, ...tags };
  if (job.multiNode) {
    return {
      ...common,
      nodeOverrides: { nodePropertyOverrides: [{ targetNodes: '0:', containerOverrides: { environment } }] },
    };
  }
  return { ...common, containerOverrides: { environment } };
}
