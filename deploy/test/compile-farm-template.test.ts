// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub text of the user data and the env file
// Facts of the compile farm template that no generic check knows: the queue and the daemon agree
// on the lease and the attempts, the API and the hosts compute the same build identities, hosts
// hibernate and verify what they install, nothing is public, and the roles name their resources.
import { COMPILE_MAX_DELIVERIES, loadConfig } from '@spotjobs/compile-worker';
import { describe, expect, it } from 'vitest';
import { TemplateSamples } from '../src/sample-values.ts';
import { subArgument } from '../src/sub-template.ts';
import { intrinsicOf, isRecord } from '../src/template-intrinsics.ts';
import { userDataEnvFile } from '../src/user-data-env-file.ts';
import { templateFixture } from './support/template-fixture.ts';

const { template, resource } = templateFixture('compile-farm.yaml');
const samples = new TemplateSamples(template);

/** Walks a plain object along `keys` (properties as parsed, intrinsics untouched). */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys)
    current = isRecord(current) || Array.isArray(current) ? (current as never)[key] : undefined;
  return current;
}

const launchData = at(resource('HostLaunchTemplate').Properties, 'LaunchTemplateData');

/** The user data script as written (the `!Sub` text, references unresolved). */
function userDataScript(): string {
  const sub = subArgument(intrinsicOf(at(launchData, 'UserData', 'Fn::Base64'))?.argument);
  if (sub === undefined) throw new Error('user data is not Fn::Base64 of a Fn::Sub');
  return sub.text;
}

/** The env file's lines `KEY=value` from the SPOTJOBS_ENV heredoc (values still `${…}` text). */
function envFileLines(script: string): Record<string, string> {
  const file = userDataEnvFile(script);
  expect(file?.badLines).toEqual([]);
  return file?.variables ?? {};
}

/** The env file with every `${…}` resolved to deploy-time samples (parameter defaults). */
function resolvedEnvFile(): Record<string, string> {
  const lines = envFileLines(userDataScript());
  return Object.fromEntries(
    Object.entries(lines).map(([key, value]) => [key, samples.text({ 'Fn::Sub': value })]),
  );
}

function lambdaEnvironment(): Record<string, string> {
  const variables = at(resource('ApiFunction').Properties, 'Environment', 'Variables');
  if (!isRecord(variables)) throw new Error('the function passes no environment');
  return Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, samples.text(value)]));
}

function statements(roleName: string): Record<string, unknown>[] {
  const policies = at(resource(roleName).Properties, 'Policies');
  if (!Array.isArray(policies)) return [];
  return policies.flatMap((policy) => {
    const list = at(policy, 'PolicyDocument', 'Statement');
    return Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
  });
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

describe('compile-farm.yaml: queue and daemon', () => {
  it('gives the queue and the daemon one lease, defaulting to the daemon’s own default', () => {
    const queue = resource('BuildQueue').Properties;
    expect(at(queue, 'VisibilityTimeout')).toEqual({ Ref: 'VisibilityTimeoutSeconds' });
    expect(envFileLines(userDataScript()).SPOTJOBS_COMPILE_VISIBILITY_SECONDS).toBe(
      '${VisibilityTimeoutSeconds}',
    );
    const daemonDefault = loadConfig({}).worker.visibilitySeconds;
    expect(template.Parameters?.VisibilityTimeoutSeconds?.Default).toBe(daemonDefault);
    expect(loadConfig(resolvedEnvFile()).worker.visibilitySeconds).toBe(daemonDefault);
  });

  it('lets the runner dead-letter with a reason before SQS redrives: maxReceiveCount is at least its attempts', () => {
    const redrive = at(resource('BuildQueue').Properties, 'RedrivePolicy');
    expect(at(redrive, 'maxReceiveCount')).toEqual({ Ref: 'MaxReceiveCount' });
    expect(at(redrive, 'deadLetterTargetArn')).toEqual({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] });
    const parameter = template.Parameters?.MaxReceiveCount;
    expect(parameter?.MinValue).toBeGreaterThanOrEqual(COMPILE_MAX_DELIVERIES);
    expect(parameter?.Default).toBeGreaterThan(COMPILE_MAX_DELIVERIES); // interruptions count as receives too
  });

  it('allows redrive into the dead-letter queue from the build queue only, both encrypted, DLQ kept 14 days', () => {
    const dlq = resource('DeadLetterQueue').Properties;
    const queueArn = samples.text(at(dlq, 'RedriveAllowPolicy', 'sourceQueueArns', 0));
    expect(at(dlq, 'RedriveAllowPolicy', 'redrivePermission')).toBe('byQueue');
    expect(queueArn).toBe(samples.text({ 'Fn::GetAtt': ['BuildQueue', 'Arn'] }));
    expect(at(dlq, 'MessageRetentionPeriod')).toBe(14 * 24 * 3600);
    for (const name of ['BuildQueue', 'DeadLetterQueue'])
      expect(at(resource(name).Properties, 'SqsManagedSseEnabled')).toBe(true);
  });

  it('hands the daemon an AWS configuration it accepts, on this stack’s queue, DLQ, table and bucket', () => {
    const config = loadConfig(resolvedEnvFile());
    expect(config.backend).toBe('aws');
    expect(config.aws).toMatchObject({
      queueUrl: samples.text({ Ref: 'BuildQueue' }),
      deadLetterQueueUrl: samples.text({ Ref: 'DeadLetterQueue' }),
      tableName: samples.text({ Ref: 'BuildTable' }),
      bucket: samples.text({ Ref: 'BuildBucket' }),
    });
    expect(config.worker).toMatchObject({ executor: 'container', imds: true });
    // The pulled image is the pinned digest, so the daemon never refuses its own builds.
    expect(config.worker.builderImage.endsWith(`@${config.profile.imageDigest}`)).toBe(true);
  });

  it('gives the API and the hosts the same builder profile, so both compute the same build identities', () => {
    const api = loadConfig(lambdaEnvironment());
    const worker = loadConfig(resolvedEnvFile());
    expect(api.profile).toEqual(worker.profile);
    expect(api.aws?.queueUrl).toBe(worker.aws?.queueUrl);
    expect(api.aws?.tableName).toBe(worker.aws?.tableName);
    expect(api.aws?.bucket).toBe(worker.aws?.bucket);
    expect(api.api.stage).toBe('LATEST');
  });

  it('keys the table as @spotjobs/core’s DynamoTable expects: string pk (hash) and sk (range)', () => {
    const table = resource('BuildTable').Properties;
    expect(at(table, 'KeySchema')).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(at(table, 'AttributeDefinitions')).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
    expect(at(table, 'BillingMode')).toBe('PAY_PER_REQUEST');
    expect(at(table, 'PointInTimeRecoverySpecification', 'PointInTimeRecoveryEnabled')).toBe(true);
  });
});

describe('compile-farm.yaml: hosts', () => {
  it('runs a maintain Spot Fleet that hibernates, over three types in the three private subnets', () => {
    const fleet = at(resource('HostFleet').Properties, 'SpotFleetRequestConfigData');
    expect(at(fleet, 'Type')).toBe('maintain');
    expect(at(fleet, 'InstanceInterruptionBehavior')).toBe('hibernate');
    expect(at(fleet, 'AllocationStrategy')).toBe('priceCapacityOptimized');
    expect(at(launchData, 'HibernationOptions', 'Configured')).toBe(true);
    const overrides = at(fleet, 'LaunchTemplateConfigs', 0, 'Overrides') as unknown[];
    const pools = overrides.map(
      (o) => `${samples.text(at(o, 'InstanceType'))} ${samples.text(at(o, 'SubnetId'))}`,
    );
    const types = samples.text({ Ref: 'InstanceTypes' }).split(',');
    const subnets = samples.text({ 'Fn::ImportValue': 'x-PrivateSubnetIds' }).split(',');
    expect(new Set(pools)).toEqual(new Set(types.flatMap((t) => subnets.map((s) => `${t} ${s}`))));
    expect(pools).toHaveLength(9);
  });

  it('hibernates onto an encrypted root volume, requires IMDSv2 and keeps containers off the metadata service', () => {
    const root = at(launchData, 'BlockDeviceMappings', 0);
    expect(at(root, 'DeviceName')).toBe('/dev/sda1');
    expect(at(root, 'Ebs', 'Encrypted')).toBe(true);
    expect(at(root, 'Ebs', 'VolumeSize')).toEqual({ Ref: 'RootVolumeGiB' });
    expect(at(launchData, 'MetadataOptions')).toMatchObject({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
    });
    expect(at(launchData, 'InstanceMarketOptions')).toBeUndefined();
  });

  it('checks the tarball’s sha256 before unpacking it, then installs the units, writes the env file, starts the unit', () => {
    const script = userDataScript();
    const steps = [
      'set -euo pipefail',
      '"s3://${ArtifactBucket}/${WorkerPackageKey}"',
      'echo "${WorkerPackageSha256}  $pkg" | sha256sum -c -',
      'tar -xzf "$pkg" -C /opt',
      '/opt/spotjobs/systemd/install.sh --prefix /opt/spotjobs',
      "cat > /etc/spotjobs/compile.env <<'SPOTJOBS_ENV'",
      'systemctl enable --now spotjobs-compile-worker',
    ];
    const positions = steps.map((step) => script.indexOf(step));
    expect(
      positions.every((p) => p >= 0),
      `missing: ${steps.filter((_, i) => positions[i]! < 0).join(' | ')}`,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(script.startsWith('#!/bin/bash\nset -euo pipefail\n')).toBe(true);
  });

  it('opens no inbound port on the hosts', () => {
    const group = resource('HostSecurityGroup').Properties;
    expect(at(group, 'SecurityGroupIngress')).toBeUndefined();
    const ports = (at(group, 'SecurityGroupEgress') as unknown[]).map((rule) => at(rule, 'FromPort'));
    expect(ports.sort()).toEqual([443, 80, 873].sort());
  });
});

describe('compile-farm.yaml: storage and API', () => {
  it('keeps the bucket private and TLS-only', () => {
    const bucket = resource('BuildBucket').Properties;
    expect(at(bucket, 'PublicAccessBlockConfiguration')).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(at(bucket, 'OwnershipControls', 'Rules', 0, 'ObjectOwnership')).toBe('BucketOwnerEnforced');
    const policy = at(resource('BuildBucketPolicy').Properties, 'PolicyDocument', 'Statement') as unknown[];
    expect(policy.filter((s) => at(s, 'Effect') === 'Allow')).toEqual([]);
    expect(policy).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('expires logs and artifacts under the prefixes the daemon writes', () => {
    const rules = at(resource('BuildBucket').Properties, 'LifecycleConfiguration', 'Rules') as unknown[];
    const prefixes = rules.map((rule) => at(rule, 'Fn::If', 1, 'Prefix')).filter((p) => p !== undefined);
    expect(prefixes.sort()).toEqual(['logs/', 'packages/']);
    expect(rules).toContainEqual(
      expect.objectContaining({
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: { Ref: 'AbortMultipartDays' } },
      }),
    );
  });

  it('serves GET /package unsigned and ANY /v1/{proxy+} on stage LATEST, both proxied to the function', () => {
    expect(at(resource('ApiStage').Properties, 'StageName')).toBe('LATEST');
    expect(at(resource('PackageResource').Properties, 'PathPart')).toBe('package');
    expect(at(resource('V1ProxyResource').Properties, 'PathPart')).toBe('{proxy+}');
    const methods = { PackageGetMethod: 'GET', V1ProxyMethod: 'ANY' };
    for (const [name, verb] of Object.entries(methods)) {
      const method = resource(name).Properties;
      expect(at(method, 'HttpMethod')).toBe(verb);
      expect(at(method, 'Integration', 'Type')).toBe('AWS_PROXY');
      expect(samples.text(at(method, 'Integration', 'Uri'))).toContain(
        samples.text({ 'Fn::GetAtt': ['ApiFunction', 'Arn'] }),
      );
    }
    expect(at(resource('PackageGetMethod').Properties, 'AuthorizationType')).toBe('NONE');
  });

  it('lets API Gateway invoke the function only through this API’s LATEST stage', () => {
    const api = samples.text({ Ref: 'RestApi' });
    for (const name of ['ApiInvokePackagePermission', 'ApiInvokeV1Permission']) {
      const arn = samples.text(at(resource(name).Properties, 'SourceArn'));
      expect(arn.startsWith(`arn:aws:execute-api:us-east-1:123456789012:${api}/LATEST/`)).toBe(true);
    }
  });

  it('names a resource in every statement of the function’s and the hosts’ roles: no *', () => {
    for (const role of ['ApiFunctionRole', 'HostRole']) {
      const all = statements(role);
      expect(all.length).toBeGreaterThan(0);
      for (const statement of all) {
        const resources = asList(statement.Resource).map((r) => samples.text(r));
        const actions = asList(statement.Action).map(String);
        expect(
          resources.filter((r) => r === '*' || r.endsWith(':::*')),
          role,
        ).toEqual([]);
        expect(
          actions.filter((a) => a.includes('*')),
          role,
        ).toEqual([]);
      }
    }
  });

  it('lets the hosts read the worker tarball and nothing else of the code bucket', () => {
    const codeBucket = samples.text({ Ref: 'ArtifactBucket' });
    const reads = statements('HostRole')
      .flatMap((s) => asList(s.Resource).map((r) => samples.text(r)))
      .filter((arn) => arn.startsWith(`arn:aws:s3:::${codeBucket}/`));
    expect(reads).toEqual([`arn:aws:s3:::${codeBucket}/${samples.text({ Ref: 'WorkerPackageKey' })}`]);
  });
});
