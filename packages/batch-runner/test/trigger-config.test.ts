import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { afUserParameterPolicy } from '../src/clusters/cluster-parameters.ts';
import { loadClusterTriggerConfig, loadJobTriggerConfig } from '../src/trigger-config.ts';

const jobEnv = {
  SPOTJOBS_TRIGGER_TABLE: 'spotjobs-triggers',
  SPOTJOBS_TRIGGER_BUCKETS: 'scar-architrave, other-input',
  SPOTJOBS_TRIGGER_JOB_QUEUE: 'spot-queue',
  SPOTJOBS_TRIGGER_JOB_DEFINITION: 'architrave:4',
};

const clusterEnv = {
  SPOTJOBS_TRIGGER_TABLE: 'spotjobs-triggers',
  SPOTJOBS_CLUSTERS_BUCKET: 'af-users-eu-west-2',
  SPOTJOBS_CLUSTERS_CUSTOMIZER_BUCKET: 'alces-flight-customizer',
  SPOTJOBS_CLUSTERS_TEMPLATE_URL: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
};

function issues(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('job trigger configuration', () => {
  it('fills defaults: input/ single-node, outputs under output/ in the input bucket', () => {
    const config = loadJobTriggerConfig(jobEnv);

    expect(config).toEqual({
      logLevel: 'info',
      tableName: 'spotjobs-triggers',
      claimTtlMs: 60_000,
      forcePathStyle: false,
      jobs: {
        buckets: ['scar-architrave', 'other-input'],
        routes: [
          { prefix: 'input/', jobQueue: 'spot-queue', jobDefinition: 'architrave:4', multiNode: false },
        ],
        outputBucket: undefined,
        outputPrefix: 'output/',
      },
    });
    expect(Object.isFrozen(config.jobs.routes[0])).toBe(true);
  });

  it('adds the multi-node route, on its own queue or the default one', () => {
    const config = loadJobTriggerConfig({
      ...jobEnv,
      SPOTJOBS_TRIGGER_MULTINODE_PREFIX: 'input/mpi/',
      SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION: 'arn:aws:batch:eu-west-2:123456789012:job-definition/mnp:2',
      SPOTJOBS_TRIGGER_MULTINODE_JOB_QUEUE: 'ondemand-queue',
    });

    expect(config.jobs.routes[1]).toEqual({
      prefix: 'input/mpi/',
      jobQueue: 'ondemand-queue',
      jobDefinition: 'arn:aws:batch:eu-west-2:123456789012:job-definition/mnp:2',
      multiNode: true,
    });
  });

  it('names every wrong variable at once', () => {
    expect(
      issues(() =>
        loadJobTriggerConfig({
          SPOTJOBS_TRIGGER_BUCKETS: 'Not_A_Bucket',
          SPOTJOBS_TRIGGER_INPUT_PREFIX: 'input',
          SPOTJOBS_TRIGGER_JOB_QUEUE: 'spot queue',
          SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS: 'soon',
        }),
      ),
    ).toEqual([
      'SPOTJOBS_TRIGGER_TABLE: Invalid input: expected string, received undefined',
      'SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS: Invalid input: expected number, received NaN',
      'SPOTJOBS_TRIGGER_BUCKETS.0: must be an S3 bucket name',
      "SPOTJOBS_TRIGGER_INPUT_PREFIX: must be folders ending in / (letters, digits, !_.*'()-)",
      'SPOTJOBS_TRIGGER_JOB_QUEUE: must be a Batch name (or name:revision) or ARN',
      'SPOTJOBS_TRIGGER_JOB_DEFINITION: Invalid input: expected string, received undefined',
    ]);
  });

  it('refuses outputs where inputs are watched (each job would trigger another)', () => {
    expect(
      issues(() => loadJobTriggerConfig({ ...jobEnv, SPOTJOBS_TRIGGER_OUTPUT_PREFIX: 'input/out/' })),
    ).toEqual([
      'SPOTJOBS_TRIGGER_OUTPUT_PREFIX: input/out/ overlaps the input prefix input/, so outputs would trigger jobs',
    ]);
    expect(
      loadJobTriggerConfig({
        ...jobEnv,
        SPOTJOBS_TRIGGER_OUTPUT_BUCKET: 'results-bucket',
        SPOTJOBS_TRIGGER_OUTPUT_PREFIX: 'input/',
      }).jobs.outputBucket,
    ).toBe('results-bucket');
  });

  it('wants the multi-node prefix and definition together', () => {
    expect(
      issues(() => loadJobTriggerConfig({ ...jobEnv, SPOTJOBS_TRIGGER_MULTINODE_PREFIX: 'mpi/' })),
    ).toEqual([
      'SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION: is required with SPOTJOBS_TRIGGER_MULTINODE_PREFIX',
    ]);
    expect(
      issues(() => loadJobTriggerConfig({ ...jobEnv, SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION: 'mnp' })),
    ).toEqual([
      'SPOTJOBS_TRIGGER_MULTINODE_PREFIX: is required with SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION',
    ]);
  });

  it('refuses prefixes with . or .. folders', () => {
    expect(
      issues(() => loadJobTriggerConfig({ ...jobEnv, SPOTJOBS_TRIGGER_INPUT_PREFIX: 'input/../' })),
    ).toEqual(['SPOTJOBS_TRIGGER_INPUT_PREFIX: must not contain . or .. folders']);
  });
});

describe('cluster trigger configuration', () => {
  it("fills defaults: home/, customizer/, af-- stacks, af-user's bounded policy, no e-mail", () => {
    const config = loadClusterTriggerConfig(clusterEnv);

    expect(config.clusters).toEqual({
      bucket: 'af-users-eu-west-2',
      homePrefix: 'home/',
      customizerPrefix: 'customizer/',
      stackPrefix: 'af',
      templateUrl: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
      capabilities: ['CAPABILITY_IAM'],
      policy: afUserParameterPolicy,
      loginOutput: 'LoginAddress',
      createTimeoutMinutes: 45,
      deleteTimeoutMinutes: 30,
      onFailure: 'DELETE',
      roleArn: undefined,
      pollIntervalMs: 10_000,
      maxRequestBytes: 16_384,
      legacyStackNames: false,
    });
    expect(config.customizerBucket).toBe('alces-flight-customizer');
    expect(config.notify).toBeUndefined();
  });

  it('reads e-mail settings and a custom parameter policy', () => {
    const config = loadClusterTriggerConfig({
      ...clusterEnv,
      SPOTJOBS_CLUSTERS_NOTIFY_FROM: 'clusters@example.ac.uk',
      SPOTJOBS_CLUSTERS_NOTIFY_TO: 'admin@example.ac.uk,{uid}@example.ac.uk',
      SPOTJOBS_CLUSTERS_SES_REGION: 'eu-west-1',
      SPOTJOBS_CLUSTERS_ROLE_ARN: 'arn:aws:iam::123456789012:role/cluster-stacks',
      SPOTJOBS_CLUSTERS_PARAMETER_POLICY: JSON.stringify({
        overridable: { Nodes: { type: 'integer', min: 1, max: 4, default: 1 } },
        fixed: { Owner: '{uid}' },
      }),
    });

    expect(config.notify).toEqual({
      from: 'clusters@example.ac.uk',
      to: ['admin@example.ac.uk', '{uid}@example.ac.uk'],
      replyTo: [],
      region: 'eu-west-1',
    });
    expect(config.clusters.policy.fixed).toEqual({ Owner: '{uid}' });
    expect(config.clusters.roleArn).toBe('arn:aws:iam::123456789012:role/cluster-stacks');
  });

  it('wants an https template URL', () => {
    expect(
      issues(() =>
        loadClusterTriggerConfig({
          ...clusterEnv,
          SPOTJOBS_CLUSTERS_TEMPLATE_URL: 'http://insecure.example/t.yaml',
        }),
      ),
    ).toEqual(['SPOTJOBS_CLUSTERS_TEMPLATE_URL: Invalid URL']);
  });

  it('refuses a broken policy, half an e-mail setup, a bad stack prefix, polls too slow for the claim', () => {
    expect(
      issues(() =>
        loadClusterTriggerConfig({
          ...clusterEnv,
          SPOTJOBS_CLUSTERS_STACK_PREFIX: 'a-f',
          SPOTJOBS_CLUSTERS_PARAMETER_POLICY:
            '{"overridable":{"AccessUsername":{"type":"enum","values":["x"]}},"fixed":{"AccessUsername":"{uid}"}}',
          SPOTJOBS_CLUSTERS_NOTIFY_FROM: 'clusters@example.ac.uk',
          SPOTJOBS_CLUSTERS_POLL_SECONDS: '30',
        }),
      ),
    ).toEqual([
      'SPOTJOBS_CLUSTERS_STACK_PREFIX: must be a letter followed by at most 15 letters or digits',
      'SPOTJOBS_CLUSTERS_PARAMETER_POLICY: AccessUsername: both fixed and overridable',
      'SPOTJOBS_CLUSTERS_POLL_SECONDS: must be at most a third of SPOTJOBS_TRIGGER_CLAIM_TTL_SECONDS',
      'SPOTJOBS_CLUSTERS_NOTIFY_FROM, SPOTJOBS_CLUSTERS_NOTIFY_TO: set both for e-mail, or neither',
    ]);
    expect(
      issues(() =>
        loadClusterTriggerConfig({ ...clusterEnv, SPOTJOBS_CLUSTERS_PARAMETER_POLICY: '{oops' }),
      )[0],
    ).toMatch(/^SPOTJOBS_CLUSTERS_PARAMETER_POLICY: not JSON/);
  });
});
