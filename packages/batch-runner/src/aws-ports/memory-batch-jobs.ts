import type { BatchJobs, JobSubmission, SubmittedJob } from './batch-jobs.ts';

export interface MemoryBatchJobsOptions {
  /** Called before each operation; an error it returns is thrown instead (fault injection). */
  readonly fault?: (operation: 'submit' | 'findByName', name: string) => Error | undefined;
}

/**
 * `BatchJobs` in memory: submitted jobs are kept in `submitted`, in order, and found by name
 * as on Batch. For tests of triggers, and local runs without AWS.
 *
 * @example
 * ```ts
 * const jobs = new MemoryBatchJobs();
 * await jobs.submit({ jobName: 'a', jobQueue: 'q', jobDefinition: 'd', multiNode: false, environment: {} });
 * jobs.submitted.length; // 1
 * ```
 */
export class MemoryBatchJobs implements BatchJobs {
  readonly submitted: Array<JobSubmission & SubmittedJob> = [];
  readonly #fault: MemoryBatchJobsOptions['fault'];

  constructor(options: MemoryBatchJobsOptions = {}) {
    this.#fault = options.fault;
  }

  async submit(job: JobSubmission, signal?: AbortSignal): Promise<SubmittedJob> {
    signal?.throwIfAborted();
    const fault = this.#fault?.('submit', job.jobName);
    if (fault) throw fault;
    const jobId = `00000000-0000-4000-8000-${String(this.submitted.length + 1).padStart(12, '0')}`;
    const submitted = { ...job, jobId, jobArn: `arn:aws:batch:us-east-1:123456789012:job/${jobId}` };
    this.submitted.push(submitted);
    return { jobId, jobName: job.jobName, jobArn: submitted.jobArn };
  }

  async findByName(
    jobQueue: string,
    jobName: string,
    signal?: AbortSignal,
  ): Promise<SubmittedJob | undefined> {
    signal?.throwIfAborted();
    const fault = this.#fault?.('findByName', jobName);
    if (fault) throw fault;
    const found = this.submitted.findLast((j) => j.jobQueue === jobQueue && j.jobName === jobName);
    return (
      found && {
        jobId: found.jobId,
        jobName: found.jobName,
        ...(found.jobArn ? { jobArn: found.jobArn } : {}),
      }
    );
  }
}
