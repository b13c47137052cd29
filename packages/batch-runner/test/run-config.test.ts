import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { loadRunnerConfig } from '../src/runner-config.ts';

const defaults = { tmpDir: '/tmp', newRunId: () => 'generated-id' };
const batch = {
  EXEC_TYPE: 'batch',
  APP_BIN: '/opt/app',
  AWS_BATCH_JOB_ID: 'a1b2c3d4-0000-4000-8000-000000000001',
};

function issuesOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadRunnerConfig(env, defaults);
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('runner configuration: modes and roles', () => {
  it('runs a Lambda as one process named by its request id', () => {
    const config = loadRunnerConfig(
      {
        EXEC_TYPE: 'LAMBDA',
        APP_BIN: 'simest',
        AWS_LAMBDA_REQUEST_ID: 'req-42',
        SPOTJOBS_OUTPUT_URI: 's3://results/out',
      },
      defaults,
    );
    expect(config).toMatchObject({ mode: 'lambda', role: 'single', runId: 'req-42' });
    expect(config.outputDestination).toEqual({ bucket: 'results', key: 'out/req-42/' });
  });

  it('names a Lambda run without a request id with a fresh id, so two runs never share outputs', () => {
    expect(loadRunnerConfig({ APP_BIN: '/opt/app' }, defaults)).toMatchObject({
      mode: 'lambda',
      runId: 'generated-id',
    });
  });

  it('infers batch from AWS_BATCH_JOB_ID when EXEC_TYPE is unset', () => {
    const { EXEC_TYPE: _, ...env } = batch;
    expect(loadRunnerConfig(env, defaults)).toMatchObject({
      mode: 'batch',
      role: 'single',
      runId: batch.AWS_BATCH_JOB_ID,
    });
  });

  it('tells the main node from a child by the node indexes, and strips the #node suffix from the run id', () => {
    const main = loadRunnerConfig(
      {
        ...batch,
        AWS_BATCH_JOB_ID: 'job-7#0',
        AWS_BATCH_JOB_NUM_NODES: '4',
        AWS_BATCH_JOB_NODE_INDEX: '0',
        SPOTJOBS_OUTPUT_URI: 's3://res/o/',
      },
      defaults,
    );
    expect(main).toMatchObject({
      role: 'main',
      runId: 'job-7',
      node: { index: 0, count: 4, mainIndex: 0, mainAddress: undefined },
    });
    expect(main.outputDestination).toEqual({ bucket: 'res', key: 'o/job-7/' });
    const child = loadRunnerConfig(
      {
        ...batch,
        AWS_BATCH_JOB_ID: 'job-7#2',
        AWS_BATCH_JOB_NUM_NODES: '4',
        AWS_BATCH_JOB_NODE_INDEX: '2',
        AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: '10.0.0.5',
        SPOTJOBS_OUTPUT_URI: 's3://res/o/',
      },
      defaults,
    );
    expect(child).toMatchObject({
      role: 'child',
      runId: 'job-7',
      node: { index: 2, mainAddress: '10.0.0.5' },
    });
    expect(child.outputDestination).toEqual({ bucket: 'res', key: 'o/job-7/node-2/' });
  });

  it('defaults the rendezvous wait to minutes (not SCAR 90 s) and SIGTERM to exit 143', () => {
    const config = loadRunnerConfig(batch, defaults);
    expect(config.rendezvous.joinTimeoutMs).toBe(600_000);
    expect(config.termination).toEqual({ graceMs: 10_000, exitCode: 143 });
  });
});

describe('runner configuration: refused settings (exit 78)', () => {
  it('lists every problem at once, each with its variable', () => {
    expect(
      issuesOf({
        EXEC_TYPE: 'docker',
        APP_BIN: '',
        AWS_BATCH_JOB_NUM_NODES: 'four',
        TMP_OUTPUT_DIR: 'relative/out',
        SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS: '0',
      }),
    ).toEqual([
      'EXEC_TYPE: must be lambda or batch',
      'APP_BIN: is required (the program to run)',
      'TMP_OUTPUT_DIR: must be an absolute path',
      'AWS_BATCH_JOB_NUM_NODES: must be a whole number',
      'SPOTJOBS_RENDEZVOUS_TIMEOUT_SECONDS: must be at least 1',
    ]);
  });

  it('requires the job id in batch mode and the main address on children', () => {
    expect(issuesOf({ EXEC_TYPE: 'batch', APP_BIN: '/opt/app' })).toContain(
      'AWS_BATCH_JOB_ID: is required with EXEC_TYPE=batch',
    );
    expect(issuesOf({ ...batch, AWS_BATCH_JOB_NUM_NODES: '3', AWS_BATCH_JOB_NODE_INDEX: '1' })).toContain(
      'AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: is required on a child node of a multi-node job',
    );
    expect(
      issuesOf({
        ...batch,
        AWS_BATCH_JOB_NUM_NODES: '3',
        AWS_BATCH_JOB_NODE_INDEX: '1',
        AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: 'main',
      }),
    ).toContain('AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: must be an IPv4 address');
  });

  it('refuses node indexes outside the job and multi-node Lambdas', () => {
    expect(issuesOf({ ...batch, AWS_BATCH_JOB_NUM_NODES: '2', AWS_BATCH_JOB_NODE_INDEX: '2' })).toContain(
      'AWS_BATCH_JOB_NODE_INDEX: 2 is not below AWS_BATCH_JOB_NUM_NODES (2)',
    );
    expect(issuesOf({ APP_BIN: '/opt/app', EXEC_TYPE: 'lambda', AWS_BATCH_JOB_NUM_NODES: '2' })).toContain(
      'AWS_BATCH_JOB_NUM_NODES: multi-node runs need EXEC_TYPE=batch',
    );
  });

  it('refuses plaintext secrets, naming the variable but never echoing the value', () => {
    const issues = issuesOf({ ...batch, APP_SECRET_ZIP: 'hunter2', APP_SECRET_ok: 'ssm:/x' });
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^APP_SECRET_ZIP: must be a secret reference/);
    expect(issues[1]).toBe('APP_SECRET_ok: secret variables are named APP_SECRET_<A-Z0-9_>');
    expect(issues.join('\n')).not.toContain('hunter2');
  });

  it('accepts Secrets Manager and SSM references', () => {
    const config = loadRunnerConfig(
      {
        ...batch,
        APP_SECRET_ZIP: 'ssm:/jobs/zip',
        APP_SECRET_KEY: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf#password',
        SPOTJOBS_RENDEZVOUS_SECRET: 'secretsmanager:mnp-shared',
      },
      defaults,
    );
    expect(Object.fromEntries(config.secrets)).toEqual({
      APP_SECRET_ZIP: { service: 'ssm', parameterName: '/jobs/zip' },
      APP_SECRET_KEY: {
        service: 'secretsmanager',
        secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf',
        jsonKey: 'password',
      },
    });
    expect(config.rendezvous.secret).toEqual({ service: 'secretsmanager', secretId: 'mnp-shared' });
    expect(config.appEnv).not.toHaveProperty('SPOTJOBS_RENDEZVOUS_SECRET');
  });

  it('refuses placeholders the run cannot fill', () => {
    expect(issuesOf({ ...batch, APP_PARAMS: '--hosts {hostfile}' })).toContain(
      'APP_PARAMS: {hostfile} exists only on the main node of a multi-node job',
    );
    expect(issuesOf({ ...batch, APP_PARAMS: '{input}' })).toContain(
      'APP_PARAMS: {input} is used but the run has no input (SPOTJOBS_INPUT_URI, EVENT or INPUT_FILE_PATH)',
    );
    expect(issuesOf({ ...batch, APP_PARAMS: '["a", 2]' })).toContain('APP_PARAMS: element 1 is not a string');
    // The launcher's {hostfile} is fine on every node: only the main node runs the launcher.
    const child = loadRunnerConfig(
      {
        ...batch,
        AWS_BATCH_JOB_NUM_NODES: '2',
        AWS_BATCH_JOB_NODE_INDEX: '1',
        AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS: '10.0.0.5',
        SPOTJOBS_LAUNCHER: 'mpirun --hostfile {hostfile}',
      },
      defaults,
    );
    expect(child.app.launcher).toEqual(['mpirun', '--hostfile', '{hostfile}']);
  });
});

describe('runner configuration: inputs', () => {
  it('reads the trigger object and extras, limiting inputs to the trigger folder by default', () => {
    const config = loadRunnerConfig(
      {
        ...batch,
        SPOTJOBS_INPUT_URI: 's3://jobs-in/home/alice/run.sh',
        SPOTJOBS_EXTRA_INPUTS: 's3://jobs-in/home/alice/deps.tar.gz  s3://jobs-in/home/alice/data.zip',
        SPOTJOBS_INPUT_ETAG: '"abc123"',
      },
      defaults,
    );
    expect(config.inputs).toMatchObject({
      trigger: { location: { bucket: 'jobs-in', key: 'home/alice/run.sh' }, etag: '"abc123"' },
      extras: [
        { bucket: 'jobs-in', key: 'home/alice/deps.tar.gz' },
        { bucket: 'jobs-in', key: 'home/alice/data.zip' },
      ],
      allowedPrefixes: [{ bucket: 'jobs-in', key: 'home/alice/' }],
    });
    expect(config.inputFilePath).toBeUndefined();
  });

  it("takes SCAR's EVENT (a raw S3 event, key URL-encoded) when no input URI is given", () => {
    const event = {
      Records: [
        { s3: { bucket: { name: 'scar-architrave' }, object: { key: 'input/run+helper%281%29.sh' } } },
      ],
    };
    const config = loadRunnerConfig({ ...batch, EVENT: JSON.stringify(event) }, defaults);
    expect(config.inputs?.trigger?.location).toEqual({
      bucket: 'scar-architrave',
      key: 'input/run helper(1).sh',
    });
  });

  it('refuses keys with .., encoded slashes, bad buckets and events that are not S3 events', () => {
    expect(issuesOf({ ...batch, SPOTJOBS_INPUT_URI: 's3://b-1/in/../secret' })[0]).toMatch(
      /SPOTJOBS_INPUT_URI: .*\.\. segment/,
    );
    expect(issuesOf({ ...batch, SPOTJOBS_INPUT_URI: 's3://b-1/in%2F..%2Fsecret' })[0]).toMatch(
      /percent-encoded slash/,
    );
    expect(issuesOf({ ...batch, SPOTJOBS_INPUT_URI: 's3://Bad_Bucket/in/x' })[0]).toMatch(
      /not a valid bucket name/,
    );
    const doubleEncoded = {
      Records: [{ s3: { bucket: { name: 'b-1' }, object: { key: 'input/a%252F..%252Fb' } } }],
    };
    expect(issuesOf({ ...batch, EVENT: JSON.stringify(doubleEncoded) })[0]).toMatch(
      /^EVENT: .*percent-encoded slash/,
    );
    expect(issuesOf({ ...batch, EVENT: '{"Records":[]}' })).toEqual([
      'EVENT: is not an S3 event (Records[0].s3.bucket.name, .object.key)',
    ]);
  });

  it('needs explicit prefixes for extras when the trigger sits at the bucket root', () => {
    expect(
      issuesOf({
        ...batch,
        SPOTJOBS_INPUT_URI: 's3://b-1/run.sh',
        SPOTJOBS_EXTRA_INPUTS: 's3://b-1/deps.tar',
      }),
    ).toEqual([
      'SPOTJOBS_INPUT_PREFIXES: is required for SPOTJOBS_EXTRA_INPUTS unless the trigger object sits in a folder',
    ]);
  });

  it('keeps INPUT_FILE_PATH for runs without S3 input, and refuses it beside one', () => {
    expect(
      loadRunnerConfig({ ...batch, INPUT_FILE_PATH: '/opt/examples/example' }, defaults).inputFilePath,
    ).toBe('/opt/examples/example');
    expect(issuesOf({ ...batch, INPUT_FILE_PATH: '/x', SPOTJOBS_INPUT_URI: 's3://b-1/in/x' })).toEqual([
      'INPUT_FILE_PATH: is set by the runner when there is an S3 input; leave it unset',
    ]);
  });
});
