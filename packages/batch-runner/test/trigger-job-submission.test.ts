import { BackendError, ClaimStore, type Table } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { MemoryBatchJobs } from '../src/aws-ports/memory-batch-jobs.ts';
import { Admission } from '../src/triggers/admission.ts';
import { type JobTriggerSettings, jobNameFor, planJob, routeFor } from '../src/triggers/job-routes.ts';
import { jobSubmissionSteps } from '../src/triggers/job-submission.ts';
import { RetryRecordsError } from '../src/triggers/trigger-errors.ts';
import {
  combine,
  invocation,
  type RecordChanges,
  s3Event,
  tempStore,
  triggerClaims,
} from './trigger-test-kit.ts';

const settings: JobTriggerSettings = {
  buckets: ['scar-architrave'],
  routes: [
    { prefix: 'input/', jobQueue: 'spot-queue', jobDefinition: 'architrave', multiNode: false },
    { prefix: 'input/mpi/', jobQueue: 'ondemand-queue', jobDefinition: 'architrave-mnp:3', multiNode: true },
  ],
  outputBucket: undefined,
  outputPrefix: 'output/',
};

async function setup(options: { jobs?: MemoryBatchJobs; table?: (table: Table) => Table } = {}) {
  const clock = new ManualClock();
  const store = await tempStore(clock);
  const jobs = options.jobs ?? new MemoryBatchJobs();
  const base = store.table('triggers');
  const claims = options.table
    ? new ClaimStore({ table: options.table(base), clock, partition: 'spotjobs-triggers' })
    : triggerClaims(store, clock);
  const admission = new Admission(jobSubmissionSteps(settings, jobs), { claims });
  return { admission, jobs };
}

const put = (changes: RecordChanges = {}) => s3Event('object-created-put', changes);

describe('job trigger: S3 ObjectCreated → SubmitJob', () => {
  it('submits a single-node job with the object as input and its own output prefix', async () => {
    const { admission, jobs } = await setup();

    const report = await admission.handle(await put(), invocation());

    expect(jobs.submitted).toHaveLength(1);
    const job = jobs.submitted[0]!;
    expect(job.jobName).toMatch(/^run_helper_sh-[0-9a-f]{16}$/);
    expect(job).toMatchObject({ jobQueue: 'spot-queue', jobDefinition: 'architrave', multiNode: false });
    expect(job.environment).toEqual({
      SPOTJOBS_INPUT_URI: 's3://scar-architrave/input/run helper.sh',
      SPOTJOBS_INPUT_VERSION_ID: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
      SPOTJOBS_INPUT_ETAG: '0e4d6b3f9b1a2c7d8e5f6a7b8c9d0e1f',
      SPOTJOBS_OUTPUT_URI: `s3://scar-architrave/output/${job.jobName}/`,
      SPOTJOBS_TRIGGER_ID: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(job.tags).toEqual({ 'spotjobs:trigger-id': job.environment.SPOTJOBS_TRIGGER_ID });
    expect(report.records[0]).toMatchObject({
      outcome: 'done',
      result: {
        jobId: job.jobId,
        jobName: job.jobName,
        input: 's3://scar-architrave/input/run helper.sh',
        output: `s3://scar-architrave/output/${job.jobName}/`,
      },
    });
  });

  it('sends objects under the multi-node prefix to the multi-node definition on its own queue', async () => {
    const { admission, jobs } = await setup();

    await admission.handle(await s3Event('object-created-unversioned'), invocation());

    expect(jobs.submitted[0]).toMatchObject({
      jobQueue: 'ondemand-queue',
      jobDefinition: 'architrave-mnp:3',
      multiNode: true,
      environment: { SPOTJOBS_INPUT_URI: 's3://scar-architrave/input/mpi/case+1.tar.gz' },
    });
    expect(jobs.submitted[0]?.environment).not.toHaveProperty('SPOTJOBS_INPUT_VERSION_ID');
  });

  it('gives each object version its own job and output prefix, and a redelivery nothing new', async () => {
    const { admission, jobs } = await setup();
    const first = await put({ versionId: 'version-1' });

    await admission.handle(first, invocation('req-1'));
    const redelivered = await admission.handle(first, invocation('req-2'));
    await admission.handle(await put({ versionId: 'version-2' }), invocation('req-3'));

    expect(redelivered.records[0]).toMatchObject({
      outcome: 'duplicate',
      result: { jobId: jobs.submitted[0]?.jobId },
    });
    expect(jobs.submitted).toHaveLength(2);
    const outputs = jobs.submitted.map((j) => j.environment.SPOTJOBS_OUTPUT_URI);
    expect(new Set(outputs).size).toBe(2);
  });

  it('a throttled SubmitJob is retried by Lambda and then submits exactly once', async () => {
    let throttled = 1;
    const jobs = new MemoryBatchJobs({
      fault: (operation) =>
        operation === 'submit' && throttled-- > 0 ? new BackendError('SubmitJob throttled', true) : undefined,
    });
    const { admission } = await setup({ jobs });
    const event = await put();

    const failed = await admission.handle(event, invocation('req-1')).catch((err: unknown) => err);
    const retried = await admission.handle(event, invocation('req-1'));
    await admission.handle(event, invocation('req-2'));

    expect(failed).toBeInstanceOf(RetryRecordsError);
    expect(retried.records[0]?.outcome).toBe('done');
    expect(jobs.submitted).toHaveLength(1);
  });

  it('after an attempt that submitted and died before recording it, the retry adopts that job', async () => {
    const jobs = new MemoryBatchJobs();
    let failCompletion = true;
    // The Table write that would record the outcome fails once: the job was submitted, the
    // record of it lost, as when the function dies between SubmitJob and the write.
    const { admission } = await setup({
      jobs,
      table: (table) => ({
        get: table.get.bind(table),
        query: table.query.bind(table),
        delete: table.delete.bind(table),
        put: async (key, data, condition, signal) => {
          if (failCompletion && (data as { completed?: boolean }).completed === true) {
            failCompletion = false;
            throw new BackendError('PutItem failed: connection reset', true);
          }
          return table.put(key, data, condition, signal);
        },
      }),
    });
    const event = await put();

    const first = await admission.handle(event, invocation('req-1')).catch((err: unknown) => err);
    const retry = await admission.handle(event, invocation('req-1'));

    expect(first).toBeInstanceOf(RetryRecordsError);
    expect(jobs.submitted).toHaveLength(1);
    expect(retry.records[0]).toMatchObject({
      outcome: 'done',
      result: { jobId: jobs.submitted[0]?.jobId, adopted: true },
    });
  });

  it('rejects keys that try to leave their prefix or smuggle separators, and foreign buckets', async () => {
    const { admission, jobs } = await setup();
    const event = combine(
      await put({ rawKey: 'input/../output/evil.sh' }),
      await put({ rawKey: 'input/..%2F..%2Fsecret.sh' }),
      await put({ rawKey: 'input/a%252F..%252Fb.sh' }),
      await put({ rawKey: 'input/a%255Cb.sh' }),
      await put({ rawKey: 'input//double.sh' }),
      await put({ rawKey: 'input/bell%07.sh' }),
      await put({ bucket: 'someone-elses-bucket' }),
    );

    const report = await admission.handle(event, invocation());

    expect(report.records.map((r) => r.outcome)).toEqual(Array(7).fill('rejected'));
    expect(report.records.map((r) => r.reason)).toEqual([
      'key has an empty, . or .. segment',
      'key has an empty, . or .. segment',
      'key contains a percent-encoded slash or backslash',
      'key contains a percent-encoded slash or backslash',
      'key has an empty, . or .. segment',
      'key contains a control character or backslash',
      "bucket someone-elses-bucket is not one of the trigger's buckets",
    ]);
    expect(jobs.submitted).toEqual([]);
  });

  it('ignores removals, folder markers, outputs of earlier jobs and keys under no input prefix', async () => {
    const { admission, jobs } = await setup();
    const event = combine(
      await s3Event('object-removed'),
      await put({ rawKey: 'input/new-folder/', size: 0 }),
      await put({ rawKey: 'output/run_helper_sh-0123456789abcdef/time.log' }),
      await put({ rawKey: 'inputs-archive/run.sh' }),
    );

    const report = await admission.handle(event, invocation());

    expect(report.records.map((r) => [r.outcome, r.reason])).toEqual([
      ['ignored', 'ObjectRemoved:DeleteMarkerCreated is not an object creation'],
      ['ignored', 'a folder marker'],
      ['ignored', 'an output of an earlier job'],
      ['ignored', 'under no input prefix'],
    ]);
    expect(jobs.submitted).toEqual([]);
  });

  it('a refusal from Batch (bad definition) is a retry, so a fixed configuration still runs the job', async () => {
    const jobs = new MemoryBatchJobs({
      fault: () => new BackendError('SubmitJob failed: JobDefinition architrave is INACTIVE', false),
    });
    const { admission } = await setup({ jobs });

    const error = (await admission
      .handle(await put(), invocation())
      .catch((e: unknown) => e)) as RetryRecordsError;

    expect(error.report.records[0]?.reason).toContain('INACTIVE');
  });
});

describe('job routes', () => {
  it('picks the longest matching prefix', () => {
    expect(routeFor(settings, 'input/mpi/x')?.jobDefinition).toBe('architrave-mnp:3');
    expect(routeFor(settings, 'input/mpix')?.jobDefinition).toBe('architrave');
    expect(routeFor(settings, 'other/x')).toBeUndefined();
  });

  it('makes Batch-safe job names, unique per object version', () => {
    const id = 'ab'.repeat(32);
    expect(jobNameFor('input/run helper.sh', id)).toBe(`run_helper_sh-${'ab'.repeat(8)}`);
    expect(jobNameFor('input/__.hidden', id)).toBe(`hidden-${'ab'.repeat(8)}`);
    expect(jobNameFor('input/é', id)).toBe(`job-${'ab'.repeat(8)}`);
    expect(jobNameFor(`input/${'x'.repeat(300)}`, id)).toHaveLength(117);
    expect(jobNameFor(`input/${'x'.repeat(300)}`, id)).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/);
  });

  it('sends outputs to the configured output bucket', () => {
    const plan = planJob(
      { ...settings, outputBucket: 'results-bucket' },
      settings.routes[0]!,
      { bucket: 'scar-architrave', key: 'input/a.sh', version: 's:01' },
      undefined,
      'cd'.repeat(32),
    );
    expect(plan.outputUri).toBe(`s3://results-bucket/output/a_sh-${'cd'.repeat(8)}/`);
  });
});
