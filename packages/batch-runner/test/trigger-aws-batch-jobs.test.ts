import { BatchClient } from '@aws-sdk/client-batch';
import { AbortedError, BackendError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { AwsBatchJobs } from '../src/aws-ports/aws-batch-jobs.ts';
import type { JobSubmission } from '../src/aws-ports/batch-jobs.ts';
import { drive, type FakeResponse, fakeAwsHttp } from './trigger-test-kit.ts';

const submission: JobSubmission = {
  jobName: 'run_helper_sh-0123456789abcdef',
  jobQueue: 'spot-queue',
  jobDefinition: 'architrave:4',
  multiNode: false,
  environment: { SPOTJOBS_OUTPUT_URI: 's3://b/output/x/', SPOTJOBS_INPUT_URI: 's3://b/input/run helper.sh' },
  tags: { 'spotjobs:trigger-id': 'ab'.repeat(32) },
};

const submitted: FakeResponse = {
  status: 200,
  body: JSON.stringify({
    jobArn: 'arn:aws:batch:eu-west-2:123456789012:job/8f0b7e0c-6f1e-4a1b-9a5e-3c2d1e0f9a8b',
    jobName: submission.jobName,
    jobId: '8f0b7e0c-6f1e-4a1b-9a5e-3c2d1e0f9a8b',
  }),
};

const batchError = (status: number, type: string, message: string): FakeResponse => ({
  status,
  headers: { 'x-amzn-errortype': type },
  body: JSON.stringify({ message }),
});

function adapter(respond: Parameters<typeof fakeAwsHttp>[0], attempts = 4) {
  const http = fakeAwsHttp(respond);
  const clock = new ManualClock();
  const jobs = new AwsBatchJobs({ client: new BatchClient(http.clientConfig), retry: { clock, attempts } });
  return { http, clock, jobs };
}

describe('AwsBatchJobs (Batch API through the SDK, on a fake HTTP handler)', () => {
  it('submits a single-node job: environment sorted into containerOverrides, tags kept', async () => {
    const { http, jobs } = adapter(() => submitted);

    const job = await jobs.submit(submission);

    expect(job).toEqual({
      jobId: '8f0b7e0c-6f1e-4a1b-9a5e-3c2d1e0f9a8b',
      jobName: submission.jobName,
      jobArn: 'arn:aws:batch:eu-west-2:123456789012:job/8f0b7e0c-6f1e-4a1b-9a5e-3c2d1e0f9a8b',
    });
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]).toMatchObject({ method: 'POST', path: '/v1/submitjob' });
    expect(JSON.parse(http.requests[0]!.body)).toEqual({
      jobName: submission.jobName,
      jobQueue: 'spot-queue',
      jobDefinition: 'architrave:4',
      containerOverrides: {
        environment: [
          { name: 'SPOTJOBS_INPUT_URI', value: 's3://b/input/run helper.sh' },
          { name: 'SPOTJOBS_OUTPUT_URI', value: 's3://b/output/x/' },
        ],
      },
      tags: { 'spotjobs:trigger-id': 'ab'.repeat(32) },
    });
  });

  it('submits a multi-node job with the environment on every node (targetNodes 0:)', async () => {
    const { http, jobs } = adapter(() => submitted);

    await jobs.submit({ ...submission, multiNode: true, tags: {} });

    const body = JSON.parse(http.requests[0]!.body);
    expect(body.containerOverrides).toBeUndefined();
    expect(body.tags).toBeUndefined();
    expect(body.nodeOverrides).toEqual({
      nodePropertyOverrides: [
        {
          targetNodes: '0:',
          containerOverrides: {
            environment: [
              { name: 'SPOTJOBS_INPUT_URI', value: 's3://b/input/run helper.sh' },
              { name: 'SPOTJOBS_OUTPUT_URI', value: 's3://b/output/x/' },
            ],
          },
        },
      ],
    });
  });

  it('retries throttling (429) and server errors with backoff, then succeeds', async () => {
    const { http, clock, jobs } = adapter((_r, i) =>
      i === 0
        ? batchError(429, 'TooManyRequestsException', 'Too Many Requests')
        : i === 1
          ? batchError(500, 'ServerException', 'internal error')
          : submitted,
    );

    const job = await drive(clock, jobs.submit(submission), 100);

    expect(job.jobId).toBe('8f0b7e0c-6f1e-4a1b-9a5e-3c2d1e0f9a8b');
    expect(http.requests).toHaveLength(3);
  });

  it('gives up after its attempts with a retryable BackendError, for the Lambda retry', async () => {
    const { http, clock, jobs } = adapter(
      () => batchError(429, 'TooManyRequestsException', 'Too Many Requests'),
      3,
    );

    const error = await drive(clock, jobs.submit(submission), 100).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).retryable).toBe(true);
    expect(http.requests).toHaveLength(3);
  });

  it('does not retry a refusal (ClientException) and says why', async () => {
    const { http, jobs } = adapter(() =>
      batchError(400, 'ClientException', 'Job definition architrave:4 is INACTIVE'),
    );

    const error = await jobs.submit(submission).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).retryable).toBe(false);
    expect((error as Error).message).toContain('Job definition architrave:4 is INACTIVE');
    expect(http.requests).toHaveLength(1);
  });

  it('finds a job by its exact name in any state, through the JOB_NAME filter', async () => {
    const { http, jobs } = adapter(() => ({
      status: 200,
      body: JSON.stringify({
        jobSummaryList: [
          {
            jobId: 'newer-other-case',
            jobName: submission.jobName.toUpperCase(),
            status: 'RUNNING',
            createdAt: 2,
          },
          {
            jobId: 'the-one',
            jobName: submission.jobName,
            jobArn: 'arn:job/the-one',
            status: 'SUCCEEDED',
            createdAt: 1,
          },
        ],
      }),
    }));

    const found = await jobs.findByName('spot-queue', submission.jobName);

    expect(found).toEqual({ jobId: 'the-one', jobName: submission.jobName, jobArn: 'arn:job/the-one' });
    expect(http.requests[0]?.path).toBe('/v1/listjobs');
    expect(JSON.parse(http.requests[0]!.body)).toEqual({
      jobQueue: 'spot-queue',
      filters: [{ name: 'JOB_NAME', values: [submission.jobName] }],
      maxResults: 100,
    });
  });

  it('finds nothing when no job has the name', async () => {
    const { jobs } = adapter(() => ({ status: 200, body: '{"jobSummaryList":[]}' }));

    expect(await jobs.findByName('spot-queue', submission.jobName)).toBeUndefined();
  });

  it('does not call or retry once aborted', async () => {
    const { http, jobs } = adapter(() => submitted);
    const controller = new AbortController();
    controller.abort();

    await expect(jobs.submit(submission, controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(http.requests).toHaveLength(0);
  });
});
