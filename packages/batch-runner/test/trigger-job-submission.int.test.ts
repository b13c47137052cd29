// The job trigger Lambda as deployed: `handler` from the entry file, configured only through
// the environment, its default SDK clients reaching DynamoDB (dynalite) and a stand-in for
// the AWS Batch API (a loopback HTTP server; no emulator exists) through AWS_ENDPOINT_URL_*.
// Inputs are objects really uploaded to S3 (fauxqs); events have S3's real shape.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, vi } from 'vitest';
import type { AdmissionReport } from '../src/triggers/admission-types.ts';
import { putWithEvent, useEmulatorAws } from './emulator-aws.ts';
import { type FakeResponse, type SeenRequest, startFakeAwsServer, withEnv } from './trigger-test-kit.ts';

const endpoints = inject('emulators');
const suffix = randomUUID().slice(0, 8);
const bucket = `jobs-in-${suffix}`;
const tableName = `job-triggers-${suffix}`;
const { s3 } = useEmulatorAws({ buckets: [bucket], table: tableName });

/** A stand-in for the Batch API: SubmitJob hands out ids, ListJobs finds them by name. */
function batchApi() {
  const jobs: Array<{ jobId: string; jobName: string; body: Record<string, unknown> }> = [];
  return {
    jobs,
    respond(request: SeenRequest): FakeResponse {
      const body = JSON.parse(request.body || '{}') as Record<string, unknown>;
      if (request.path === '/v1/submitjob') {
        const job = { jobId: randomUUID(), jobName: String(body.jobName), body };
        jobs.push(job);
        return {
          status: 200,
          body: JSON.stringify({ jobId: job.jobId, jobName: job.jobName, jobArn: `arn:job/${job.jobId}` }),
        };
      }
      if (request.path === '/v1/listjobs') {
        const name = (body.filters as Array<{ values: string[] }>)[0]?.values[0];
        return {
          status: 200,
          body: JSON.stringify({
            jobSummaryList: jobs
              .filter((j) => j.jobName === name)
              .map(({ jobId, jobName }) => ({ jobId, jobName })),
          }),
        };
      }
      return {
        status: 404,
        headers: { 'x-amzn-errortype': 'ClientException' },
        body: '{"message":"unknown"}',
      };
    },
  };
}

/** The deployed handler, imported fresh so it composes from this test's environment. */
async function deployedHandler(batchUrl: string, env: Record<string, string> = {}) {
  withEnv({
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_BATCH: batchUrl,
    SPOTJOBS_TRIGGER_LOG_LEVEL: 'silent',
    SPOTJOBS_TRIGGER_TABLE: tableName,
    SPOTJOBS_TRIGGER_BUCKETS: bucket,
    SPOTJOBS_TRIGGER_JOB_QUEUE: 'spot-queue',
    SPOTJOBS_TRIGGER_JOB_DEFINITION: 'architrave:4',
    SPOTJOBS_TRIGGER_MULTINODE_PREFIX: 'input/mpi/',
    SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION: 'architrave-mnp:2',
    SPOTJOBS_TRIGGER_MULTINODE_JOB_QUEUE: 'ondemand-queue',
  });
  vi.resetModules();
  const module = await import('../src/triggers/lambda-entry.ts');
  return module.handler as (event: unknown, context: unknown) => Promise<AdmissionReport>;
}

/** A user uploads `key`; this is the event S3 then sends (unversioned bucket: a new sequencer per PUT). */
async function upload(key: string, body: string) {
  return putWithEvent(s3, 'object-created-put', bucket, key, body, { versionId: null });
}

/** The entry module is loaded fresh, so its error classes are not this file's: match by code. */
const isRetry = (err: unknown) => (err as { code?: unknown } | undefined)?.code === 'TRIGGER_RETRY';

const lambda = (id: string) => ({ awsRequestId: id, getRemainingTimeInMillis: () => 30_000 });

describe('job trigger Lambda (entry file, environment, DynamoDB on dynalite, a Batch API stand-in)', () => {
  it('submits one job per uploaded object version, however often and concurrently the event arrives', async () => {
    const batch = batchApi();
    const server = await startFakeAwsServer((r) => batch.respond(r));
    const handler = await deployedHandler(server.url);
    const event = await upload(`input/${suffix}/run helper.sh`, '#!/bin/sh\necho hello\n');

    const concurrent = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((id) => handler(structuredClone(event), lambda(`req-${id}`))),
    );
    const later = await handler(event, lambda('req-e'));

    expect(batch.jobs).toHaveLength(1);
    const outcomes = concurrent.map((r) =>
      r.status === 'fulfilled' ? r.value.records[0]?.outcome : isRetry(r.reason) ? 'retry' : 'other',
    );
    expect(outcomes.filter((o) => o === 'done')).toHaveLength(1);
    expect(outcomes.every((o) => o === 'done' || o === 'duplicate' || o === 'retry')).toBe(true);
    expect(later.records[0]).toMatchObject({ outcome: 'duplicate', result: { jobId: batch.jobs[0]?.jobId } });
    const submitted = batch.jobs[0]!.body;
    expect(submitted).toMatchObject({ jobQueue: 'spot-queue', jobDefinition: 'architrave:4' });
    expect((submitted.containerOverrides as { environment: unknown }).environment).toEqual([
      { name: 'SPOTJOBS_INPUT_ETAG', value: '0e4d6b3f9b1a2c7d8e5f6a7b8c9d0e1f' },
      { name: 'SPOTJOBS_INPUT_URI', value: `s3://${bucket}/input/${suffix}/run helper.sh` },
      { name: 'SPOTJOBS_OUTPUT_URI', value: `s3://${bucket}/output/${batch.jobs[0]?.jobName}/` },
      { name: 'SPOTJOBS_TRIGGER_ID', value: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
  });

  it('a re-uploaded object is a new version: a new job with its own output prefix; multi-node by prefix', async () => {
    const batch = batchApi();
    const server = await startFakeAwsServer((r) => batch.respond(r));
    const handler = await deployedHandler(server.url);

    await handler(await upload(`input/${suffix}/case.sh`, 'v1'), lambda('req-1'));
    await handler(await upload(`input/${suffix}/case.sh`, 'v2'), lambda('req-2'));
    await handler(await upload(`input/mpi/${suffix}/case.sh`, 'mpi'), lambda('req-3'));

    expect(batch.jobs).toHaveLength(3);
    expect(new Set(batch.jobs.map((j) => j.jobName)).size).toBe(3);
    expect(batch.jobs[2]?.body).toMatchObject({
      jobQueue: 'ondemand-queue',
      jobDefinition: 'architrave-mnp:2',
      nodeOverrides: { nodePropertyOverrides: [{ targetNodes: '0:' }] },
    });
  });

  it('a throttled Batch API makes the invocation fail for a Lambda retry, which then submits once', async () => {
    const batch = batchApi();
    // Throttled through every attempt of the SDK and of the adapter within the first invocation.
    let throttling = true;
    const server = await startFakeAwsServer((r) =>
      r.path === '/v1/submitjob' && throttling
        ? {
            status: 429,
            headers: { 'x-amzn-errortype': 'TooManyRequestsException' },
            body: '{"message":"Too Many Requests"}',
          }
        : batch.respond(r),
    );
    // The SDK's own retries are turned off here only to keep the test short; the adapter's remain.
    const handler = await deployedHandler(server.url, { AWS_MAX_ATTEMPTS: '1' });
    const event = await upload(`input/${suffix}/throttled.sh`, 'x');

    const first = await handler(event, lambda('req-1')).catch((err: unknown) => err);
    throttling = false;
    const retry = await handler(event, lambda('req-1'));

    expect(isRetry(first)).toBe(true);
    expect(server.requests.filter((r) => r.path === '/v1/submitjob').length).toBe(4 + 1);
    expect(retry.records[0]?.outcome).toBe('done');
    expect(batch.jobs).toHaveLength(1);
  });
});
