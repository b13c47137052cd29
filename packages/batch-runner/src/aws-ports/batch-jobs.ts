/**
 * `BatchJobs`: submitting AWS Batch jobs, and finding one submitted before by its name.
 *
 * AWS Batch has no idempotency token on SubmitJob, and job names are not unique, so
 * deduplication lives in the trigger's Table; `findByName` is the check a trigger makes
 * before submitting again after an attempt that may have submitted and then died.
 *
 * Adapters: `AwsBatchJobs` (SDK v3), `MemoryBatchJobs` (tests, local development).
 *
 * @example
 * ```ts
 * const job = (await jobs.findByName('jobs-q', name, signal)) ?? (await jobs.submit(submission, signal));
 * ```
 */
export interface BatchJobs {
  /** Submits one job; throttling is retried; a refusal (bad queue, definition) rejects. */
  submit(job: JobSubmission, signal?: AbortSignal): Promise<SubmittedJob>;
  /** The newest job of exactly this name in the queue, in any state, or undefined. */
  findByName(jobQueue: string, jobName: string, signal?: AbortSignal): Promise<SubmittedJob | undefined>;
}

/** One job to submit. */
export interface JobSubmission {
  /** 1–128 of A-Z a-z 0-9 _ -, starting with a letter or digit (Batch's rule). */
  readonly jobName: string;
  readonly jobQueue: string;
  /** Name, name:revision or ARN. */
  readonly jobDefinition: string;
  /**
   * A multi-node parallel job definition: the environment goes to every node
   * (`nodeOverrides`, target `0:`) instead of the single container (`containerOverrides`).
   */
  readonly multiNode: boolean;
  /** Added to (and overriding) the job definition's environment. */
  readonly environment: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SubmittedJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly jobArn?: string;
}
