import {
  afUserParameterPolicy,
  clusterStackTags,
  loadClusterTriggerConfig,
  resolveParameters,
  stackNameFor,
} from '@spotjobs/batch-runner';
import { describe, expect, it } from 'vitest';
import { findCycle, resourceDependencies } from '../src/check-dependency-cycles.ts';
import { TemplateSamples } from '../src/sample-values.ts';
import { loadTemplate, type Template } from '../src/template-file.ts';
import { asList, type Json, type Statement, templateFixture } from './support/template-fixture.ts';

// What clusters.yaml (and the cluster template it hands to CloudFormation, user-cluster.yaml)
// must hold beyond the generic checks: af-user's iam:PassRole * gone (one role, passed only to
// CloudFormation), requests routed by suffix under home/, a bucket wired to its functions without
// a circular dependency, and a parameter policy that matches the template users get.

const { template, resource, props, statements } = templateFixture('clusters.yaml');
const userCluster = loadTemplate(new URL('../templates/user-cluster.yaml', import.meta.url));
const samples = new TemplateSamples(template);

const roles = Object.entries(template.Resources)
  .filter(([, r]) => r.Type === 'AWS::IAM::Role' || r.Type === 'AWS::IAM::ManagedPolicy')
  .map(([name]) => name);

function allStatements(): { role: string; statement: Statement }[] {
  return roles.flatMap((role) => {
    const managed = resource(role).Type === 'AWS::IAM::ManagedPolicy';
    const list = managed
      ? ((props(role).PolicyDocument as { Statement: Statement[] }).Statement ?? [])
      : statements(role);
    return list.map((statement) => ({ role, statement }));
  });
}

const passRoles = (role: string) => statements(role).filter((s) => asList(s.Action).includes('iam:PassRole'));

function environment(fn: string): Record<string, string> {
  const variables = (props(fn).Environment as { Variables: Json }).Variables;
  return Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, samples.text(value)]));
}

describe('clusters.yaml roles', () => {
  it('lets a cluster user list only their own folder, never home/ (which would name every user)', () => {
    const document = props('ClusterUsersPolicy').PolicyDocument as { Statement: Statement[] };
    const listing = document.Statement.filter((s) => asList(s.Action).includes('s3:ListBucket'));
    expect(listing.length).toBeGreaterThan(0);
    for (const statement of listing) {
      const prefixes = asList(
        (statement.Condition as Record<string, Json> | undefined)?.StringLike?.['s3:prefix'],
      ).map((prefix) => (typeof prefix === 'string' ? prefix : (prefix as { 'Fn::Sub': string })['Fn::Sub']));
      expect(prefixes.length, statement.Sid).toBeGreaterThan(0);
      for (const prefix of prefixes) expect(prefix).toMatch(/^home\/\$\{!aws:username\}\//);
    }
  });

  it('grants iam:PassRole on no wildcard anywhere', () => {
    for (const { role, statement } of allStatements()) {
      if (!asList(statement.Action).some((a) => a === 'iam:PassRole' || a === 'iam:*' || a === '*')) continue;
      for (const target of asList(statement.Resource)) {
        expect(typeof target, `${role} ${statement.Sid}`).not.toBe('string');
        expect(JSON.stringify(target)).not.toContain('*');
      }
    }
  });

  it('lets the create function pass exactly the CloudFormation service role, to CloudFormation only', () => {
    const [pass, ...more] = passRoles('CreateFunctionRole');
    expect(more).toEqual([]);
    expect(pass?.Resource).toEqual({ 'Fn::GetAtt': ['ClusterStackServiceRole', 'Arn'] });
    expect(pass?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' },
    });
    // The delete function needs none: CloudFormation deletes with the role the stack was made with.
    expect(passRoles('DeleteFunctionRole')).toEqual([]);
    // The service role itself passes only the cluster nodes' role, to EC2, and creates no IAM.
    const service = statements('ClusterStackServiceRole');
    expect(passRoles('ClusterStackServiceRole')).toEqual([
      expect.objectContaining({
        Resource: { 'Fn::GetAtt': ['ClusterInstanceRole', 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    ]);
    const iamActions = service.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('iam:'));
    expect(iamActions.sort()).toEqual(['iam:CreateServiceLinkedRole', 'iam:PassRole']);
  });

  it('limits stack operations to the <prefix>--* namespace, the configured template and role', () => {
    const stackArn = 'arn:aws:cloudformation:us-east-1:123456789012:stack/af--*/*';
    for (const role of ['CreateFunctionRole', 'DeleteFunctionRole'])
      for (const s of statements(role).filter((x) =>
        asList(x.Action).some((a) => a.startsWith('cloudformation:')),
      ))
        expect(samples.text(s.Resource), `${role} ${s.Sid}`).toBe(stackArn);
    const env = environment('CreateFunction');
    const create = statements('CreateFunctionRole').find((s) =>
      asList(s.Action).includes('cloudformation:CreateStack'),
    );
    const condition = create?.Condition as Record<string, Record<string, unknown>>;
    expect(samples.text(condition.ArnEquals?.['cloudformation:RoleArn'])).toBe(
      env.SPOTJOBS_CLUSTERS_ROLE_ARN,
    );
    expect(samples.text(condition.StringEquals?.['cloudformation:TemplateUrl'])).toBe(
      env.SPOTJOBS_CLUSTERS_TEMPLATE_URL,
    );
    expect(env.SPOTJOBS_CLUSTERS_STACK_PREFIX).toBe('af');
    // The names and tags the create function really uses fall inside those conditions.
    expect(stackNameFor('af', 'alice', 'demo').startsWith('af--')).toBe(true);
    expect(Object.keys(clusterStackTags('alice', 'demo')).sort()).toEqual(
      [...((condition['ForAllValues:StringEquals']?.['aws:TagKeys'] ?? []) as string[])].sort(),
    );
    expect(condition.Null).toEqual({ 'aws:RequestTag/spotjobs:owner': 'false' });
    const remove = statements('DeleteFunctionRole').find((s) =>
      asList(s.Action).includes('cloudformation:DeleteStack'),
    );
    expect(remove?.Condition).toEqual({ Null: { 'aws:ResourceTag/spotjobs:owner': 'false' } });
  });

  it('gives the functions S3 object rights under home/ only, and the gate only the user.sh files', () => {
    const bucket = environment('CreateFunction').SPOTJOBS_CLUSTERS_BUCKET;
    for (const role of ['CreateFunctionRole', 'DeleteFunctionRole']) {
      const objectRights = statements(role).filter((s) =>
        asList(s.Action).some((a) => /^s3:(Put|Delete)Object$/.test(a)),
      );
      expect(objectRights.map((s) => samples.text(s.Resource))).toEqual([`arn:aws:s3:::${bucket}/home/*`]);
    }
    const gate = statements('CreateFunctionRole').find((s) => s.Sid === 'CustomizerGate');
    expect(samples.text(gate?.Resource)).toMatch(/\/customizer\/\*\/configure\.d\/user\.sh$/);
  });
});

describe('clusters.yaml requests', () => {
  it('routes .cf-create and .cf-delete under home/ to their own functions', () => {
    const configurations = (props('UserBucket').NotificationConfiguration as { LambdaConfigurations: Json[] })
      .LambdaConfigurations;
    const routes = configurations.map((c) => ({
      event: c.Event,
      function: (c.Function as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0],
      rules: ((c.Filter as { S3Key: { Rules: { Name: string; Value: string }[] } }).S3Key.Rules ?? []).map(
        (r) => `${r.Name}=${r.Value}`,
      ),
    }));
    expect(routes).toEqual([
      {
        event: 's3:ObjectCreated:*',
        function: 'CreateFunction',
        rules: ['prefix=home/', 'suffix=.cf-create'],
      },
      {
        event: 's3:ObjectCreated:*',
        function: 'DeleteFunction',
        rules: ['prefix=home/', 'suffix=.cf-delete'],
      },
    ]);
    expect(props('CreateFunction').Handler).toBe('index.createHandler');
    expect(props('DeleteFunction').Handler).toBe('index.deleteHandler');
    expect(props('CreateFunction').Timeout).toBe(900);
    expect(Number(props('DeleteFunction').Timeout)).toBeLessThan(900);
  });

  it('lets only S3 events of the user bucket in this account invoke the functions', () => {
    const bucketArn = `arn:aws:s3:::${samples.text(props('UserBucket').BucketName)}`;
    for (const permission of ['CreatePermission', 'DeletePermission']) {
      expect(props(permission).Principal).toBe('s3.amazonaws.com');
      expect(props(permission).SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      expect(samples.text(props(permission).SourceArn)).toBe(bucketArn);
    }
    expect(resource('UserBucket').DependsOn).toEqual(['CreatePermission', 'DeletePermission']);
  });

  it('has no circular dependency between the bucket, its notifications, the permissions and the functions', () => {
    expect(findCycle(resourceDependencies(template))).toEqual([]);
    expect(findCycle(resourceDependencies(userCluster))).toEqual([]);
  });

  it('finds a cycle when the functions name the bucket by !Ref (the classic loop this template avoids)', () => {
    const looped = structuredClone(template) as { Resources: Record<string, { Properties: Json }> };
    const create = looped.Resources.CreateFunction;
    if (!create) throw new Error('clusters.yaml has no CreateFunction');
    const variables = (create.Properties.Environment as { Variables: Json }).Variables;
    variables.SPOTJOBS_CLUSTERS_BUCKET = { Ref: 'UserBucket' };
    expect(findCycle(resourceDependencies(looped as unknown as Template))).toEqual(
      expect.arrayContaining(['UserBucket', 'CreateFunction']),
    );
  });

  it('keeps the user bucket private, encrypted, versioned and TLS-only', () => {
    const bucket = props('UserBucket');
    expect(Object.values(bucket.PublicAccessBlockConfiguration as Json)).toEqual([true, true, true, true]);
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const [deny] = (props('UserBucketPolicy').PolicyDocument as { Statement: Statement[] }).Statement;
    expect(deny).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });
});

describe('clusters.yaml configuration and the cluster template', () => {
  const createEnv = environment('CreateFunction');
  const policy = JSON.parse(createEnv.SPOTJOBS_CLUSTERS_PARAMETER_POLICY ?? '') as {
    overridable: Record<string, unknown>;
    fixed: Record<string, string>;
  };

  it('configures both functions identically, and the configuration loads', () => {
    expect(environment('DeleteFunction')).toEqual(createEnv);
    const config = loadClusterTriggerConfig(createEnv);
    expect(config.clusters.roleArn).toBe(samples.text({ 'Fn::GetAtt': ['ClusterStackServiceRole', 'Arn'] }));
    expect(config.clusters.bucket).toBe(samples.text(props('UserBucket').BucketName));
  });

  it('keeps af-user’s bounded allow-list and fixes the login name and profile to the user id', () => {
    expect(policy.overridable).toEqual(afUserParameterPolicy.overridable);
    expect(policy.fixed).toMatchObject({ AccessUsername: '{uid}', FlightProfiles: '{uid}' });
  });

  it('passes user-cluster.yaml every parameter it needs and none it lacks', () => {
    const config = loadClusterTriggerConfig(createEnv);
    const resolved = resolveParameters(config.clusters.policy, {}, 'alice');
    if (!('parameters' in resolved)) throw new Error(`default request refused: ${JSON.stringify(resolved)}`);
    const declared = userCluster.Parameters ?? {};
    for (const name of Object.keys(resolved.parameters)) expect(declared, name).toHaveProperty(name);
    const required = Object.entries(declared)
      .filter(([, p]) => p.Default === undefined)
      .map(([name]) => name);
    for (const name of required) expect(resolved.parameters, name).toHaveProperty(name);
  });

  it('bounds the template’s parameters exactly as the allow-list does', () => {
    const declared = userCluster.Parameters ?? {};
    for (const [name, rule] of Object.entries(afUserParameterPolicy.overridable)) {
      const parameter = declared[name];
      if (rule.type === 'enum') expect(parameter?.AllowedValues, name).toEqual(rule.values);
      if (rule.type === 'string') {
        expect(parameter?.AllowedPattern, name).toBe(`^${rule.pattern}$`);
        expect(parameter?.MaxLength, name).toBe(rule.maxLength);
      }
      if (rule.type === 'integer' || rule.type === 'number') {
        expect([parameter?.MinValue, parameter?.MaxValue], name).toEqual([rule.min, rule.max]);
      }
      expect(String(parameter?.Default), name).toBe(String(rule.default));
    }
  });

  it('gives the login address under the output name the create function reads', () => {
    expect(userCluster.Outputs).toHaveProperty(createEnv.SPOTJOBS_CLUSTERS_LOGIN_OUTPUT ?? 'LoginAddress');
  });
});
