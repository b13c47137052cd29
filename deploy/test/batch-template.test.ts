import { RunnerExitCodes } from '@spotjobs/batch-runner';
import { describe, expect, it } from 'vitest';
import { findCycle, resourceDependencies } from '../src/check-dependency-cycles.ts';
import { type Json, templateFixture } from './support/template-fixture.ts';

// What batch.yaml must hold beyond the generic checks (spec, references, parameters, environment
// against the config schemas): Spot only where Batch allows it, retry rules that match the
// runner's exit codes, a trigger that can submit to this stack's queues only, and a bucket,
// notification and trigger wired without a circular dependency.

const { template, props, namesOfType } = templateFixture('batch.yaml');

/** The logical id `{ Ref: x }` names, or undefined. */
function refTarget(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && 'Ref' in value
    ? String((value as Json).Ref)
    : undefined;
}

const triggerEnv = (props('TriggerFunction').Environment as { Variables: Json }).Variables;

interface ExitRule {
  readonly Action: string;
  readonly OnExitCode?: string;
  readonly OnReason?: string;
  readonly OnStatusReason?: string;
}

function retryStrategy(jobDefinition: string): { Attempts: unknown; EvaluateOnExit: ExitRule[] } {
  return props(jobDefinition).RetryStrategy as { Attempts: unknown; EvaluateOnExit: ExitRule[] };
}

function containerEnvironment(jobDefinition: string): Map<string, unknown> {
  const p = props(jobDefinition);
  const container = (p.ContainerProperties ??
    (p.NodeProperties as { NodeRangeProperties: { Container: Json }[] }).NodeRangeProperties[0]
      ?.Container) as Json;
  const env = new Map<string, unknown>();
  for (const entry of container.Environment as unknown[]) {
    // `!If [cond, {Name, Value}, AWS::NoValue]` entries count with their Name.
    const item = (
      typeof entry === 'object' && entry !== null && 'Fn::If' in entry
        ? ((entry as Json)['Fn::If'] as unknown[])[1]
        : entry
    ) as { Name: string; Value: unknown };
    env.set(item.Name, item.Value);
  }
  return env;
}

describe('batch.yaml capacity', () => {
  it('puts multi-node jobs on the On-Demand environment and uses Spot only for the single-node queue', () => {
    const environments = namesOfType('AWS::Batch::ComputeEnvironment');
    const queueOf = (queue: string) =>
      (props(queue).ComputeEnvironmentOrder as { ComputeEnvironment: unknown }[]).map((o) =>
        refTarget(o.ComputeEnvironment),
      );
    const capacity = (ce: string | undefined) => (props(ce ?? '').ComputeResources as Json).Type;

    const multiQueue = refTarget(triggerEnv.SPOTJOBS_TRIGGER_MULTINODE_JOB_QUEUE);
    const singleQueue = refTarget(triggerEnv.SPOTJOBS_TRIGGER_JOB_QUEUE);
    expect(multiQueue).toBe('MultiNodeJobQueue');
    expect(singleQueue).toBe('SingleNodeJobQueue');
    expect(refTarget(triggerEnv.SPOTJOBS_TRIGGER_MULTINODE_JOB_DEFINITION)).toBe('MultiNodeJobDefinition');
    expect(refTarget(triggerEnv.SPOTJOBS_TRIGGER_JOB_DEFINITION)).toBe('SingleNodeJobDefinition');
    expect(props('MultiNodeJobDefinition').Type).toBe('multinode');
    expect(props('SingleNodeJobDefinition').Type).toBe('container');

    // Batch refuses multi-node jobs on Spot: every environment behind the MNP queue is On-Demand.
    expect(queueOf('MultiNodeJobQueue').map(capacity)).toEqual(['EC2']);
    expect(queueOf('SingleNodeJobQueue').map(capacity)).toEqual(['SPOT']);

    // The Spot environment serves the single-node queue and nothing else.
    const spot = environments.filter((ce) => capacity(ce) === 'SPOT');
    const queuesUsing = (ce: string) =>
      namesOfType('AWS::Batch::JobQueue').filter((q) => queueOf(q).includes(ce));
    expect(spot).toEqual(['SpotComputeEnvironment']);
    expect(queuesUsing('SpotComputeEnvironment')).toEqual(['SingleNodeJobQueue']);
    expect(queuesUsing('OnDemandComputeEnvironment')).toEqual(['MultiNodeJobQueue']);
  });

  it('keeps the multi-node nodes together: a cluster placement group and a single subnet', () => {
    const resources = props('OnDemandComputeEnvironment').ComputeResources as Json;
    expect(refTarget(resources.PlacementGroup)).toBe('MultiNodePlacementGroup');
    expect(props('MultiNodePlacementGroup').Strategy).toBe('cluster');
    expect(resources.Subnets).toHaveLength(1);
    // No Spot Fleet role: SPOT_PRICE_CAPACITY_OPTIMIZED needs none.
    const spot = props('SpotComputeEnvironment').ComputeResources as Json;
    expect(spot.AllocationStrategy).toBe('SPOT_PRICE_CAPACITY_OPTIMIZED');
    expect(spot).not.toHaveProperty('SpotIamFleetRole');
  });

  it('opens every TCP port between nodes of the group and nothing from outside it', () => {
    const ingress = namesOfType('AWS::EC2::SecurityGroupIngress').map((n) => props(n));
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ IpProtocol: 'tcp', FromPort: 0, ToPort: 65535 });
    expect(ingress[0]?.SourceSecurityGroupId).toEqual(ingress[0]?.GroupId);
    expect(props('NodeSecurityGroup')).not.toHaveProperty('SecurityGroupIngress');
  });
});

describe('batch.yaml retry rules', () => {
  const terminated = String(RunnerExitCodes.terminated);

  for (const jobDefinition of ['SingleNodeJobDefinition', 'MultiNodeJobDefinition']) {
    it(`${jobDefinition}: retries lost hosts and SIGTERM-stopped runs, never a failed app`, () => {
      const { Attempts, EvaluateOnExit: rules } = retryStrategy(jobDefinition);
      expect(rules.length).toBeGreaterThan(0);
      expect(rules.length).toBeLessThanOrEqual(5);

      const attempts = template.Parameters?.[refTarget(Attempts) ?? ''];
      expect(attempts?.Type).toBe('Number');
      expect(Number(attempts?.MinValue)).toBeGreaterThanOrEqual(1);
      expect(Number(attempts?.MaxValue)).toBeLessThanOrEqual(10);

      // Batch acts on the first matching rule: every RETRY comes before the EXIT rules, which
      // catch any exit code (a failed app) and then anything at all.
      const firstExit = rules.findIndex((r) => r.Action === 'EXIT');
      expect(firstExit).toBeGreaterThan(0);
      expect(rules.slice(0, firstExit).every((r) => r.Action === 'RETRY')).toBe(true);
      expect(rules.slice(firstExit)).toEqual([
        { OnExitCode: '*', Action: 'EXIT' },
        { OnReason: '*', Action: 'EXIT' },
      ]);
      expect(rules).toContainEqual({ OnStatusReason: 'Host EC2*', Action: 'RETRY' });
      expect(rules).toContainEqual({ OnExitCode: terminated, Action: 'RETRY' });

      // The code the rule matches is the one the container is told to exit with.
      expect(containerEnvironment(jobDefinition).get('SPOTJOBS_TERM_EXIT_CODE')).toBe(terminated);
      // RETRY rules name only the runner's own codes, never an arbitrary application's.
      const runnerCodes = new Set(Object.values(RunnerExitCodes).map(String));
      for (const rule of rules.filter((r) => r.Action === 'RETRY' && r.OnExitCode !== undefined))
        expect(runnerCodes.has(rule.OnExitCode ?? '')).toBe(true);
    });
  }

  it('retries a multi-node job whose nodes never met (rendezvous failure)', () => {
    expect(retryStrategy('MultiNodeJobDefinition').EvaluateOnExit).toContainEqual({
      OnExitCode: String(RunnerExitCodes.nodesUnavailable),
      Action: 'RETRY',
    });
  });

  it('tells the multi-node runner the rendezvous port and the awsvpc interface', () => {
    const env = containerEnvironment('MultiNodeJobDefinition');
    expect(env.get('EXEC_TYPE')).toBe('batch');
    expect(env.get('SPOTJOBS_RENDEZVOUS_PORT')).toBe('7650');
    expect(env.get('SPOTJOBS_NODE_INTERFACE')).toBe('eth0');
    const nodes = props('MultiNodeJobDefinition').NodeProperties as Json;
    expect(nodes.MainNode).toBe(0);
    expect((nodes.NodeRangeProperties as Json[]).map((r) => r.TargetNodes)).toEqual(['0:']);
  });
});

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

function roleStatements(): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = [];
  for (const [name, r] of Object.entries(template.Resources)) {
    const documents: unknown[] = [];
    if (r.Type === 'AWS::IAM::Role')
      for (const policy of (r.Properties?.Policies ?? []) as Json[]) documents.push(policy.PolicyDocument);
    if (r.Type === 'AWS::IAM::RolePolicy' || r.Type === 'AWS::IAM::Policy')
      documents.push(r.Properties?.PolicyDocument);
    for (const document of documents)
      for (const statement of (document as { Statement: Statement[] }).Statement)
        found.push({ where: name, statement });
  }
  return found;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

describe('batch.yaml permissions', () => {
  it('lets the trigger submit to this stack’s two queues and two job definitions only', () => {
    const submits = roleStatements().filter(({ statement }) =>
      asList(statement.Action).includes('batch:SubmitJob'),
    );
    expect(submits.map((s) => s.where)).toEqual(['TriggerRole']);
    expect(submits[0]?.statement.Action).toBe('batch:SubmitJob');
    expect(asList(submits[0]?.statement.Resource).map(refTarget).sort()).toEqual(
      ['MultiNodeJobDefinition', 'MultiNodeJobQueue', 'SingleNodeJobDefinition', 'SingleNodeJobQueue'].sort(),
    );
    // The trigger role is the function's.
    expect((props('TriggerFunction').Role as Json)['Fn::GetAtt']).toEqual(['TriggerRole', 'Arn']);
  });

  it('grants Resource * to no role except batch:ListJobs, which has no resource-level permission', () => {
    const wildcard = roleStatements().filter(
      ({ statement }) => statement.Effect === 'Allow' && asList(statement.Resource).includes('*'),
    );
    expect(wildcard.map(({ where, statement }) => [where, statement.Action])).toEqual([
      ['TriggerRole', 'batch:ListJobs'],
    ]);
    for (const { statement } of roleStatements())
      for (const action of asList(statement.Action)) expect(String(action)).not.toMatch(/(^|:)\*$/);
  });
});

describe('batch.yaml bucket and trigger', () => {
  it('notifies the trigger for exactly the prefix the trigger watches', () => {
    const notifications = (props('IoBucket').NotificationConfiguration as { LambdaConfigurations: Json[] })
      .LambdaConfigurations;
    expect(notifications).toHaveLength(1);
    const notification = notifications[0] as Json;
    expect(notification.Event).toBe('s3:ObjectCreated:*');
    expect(notification.Function).toEqual({ 'Fn::GetAtt': ['TriggerFunction', 'Arn'] });
    const rules = ((notification.Filter as Json).S3Key as { Rules: Json[] }).Rules;
    expect(rules).toEqual([{ Name: 'prefix', Value: triggerEnv.SPOTJOBS_TRIGGER_INPUT_PREFIX }]);
    // Multi-node inputs sit in a folder under the notified prefix, so their events arrive too.
    expect(triggerEnv.SPOTJOBS_TRIGGER_MULTINODE_PREFIX).toEqual({
      'Fn::Sub': `\${${refTarget(triggerEnv.SPOTJOBS_TRIGGER_INPUT_PREFIX)}}\${MultiNodeFolder}`,
    });
  });

  it('names the bucket once, as the trigger and its invoke permission see it', () => {
    const bucketName = props('IoBucket').BucketName;
    expect(triggerEnv.SPOTJOBS_TRIGGER_BUCKETS).toEqual(bucketName);
    const permission = props('TriggerInvokePermission');
    expect(permission.Principal).toBe('s3.amazonaws.com');
    expect(permission.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    // SourceArn: the partition's S3 ARN prefix joined to the same computed name.
    const [, [arnPrefix, id]] = (permission.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const [, [namePrefix, nameId]] = (bucketName as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    expect(arnPrefix).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${namePrefix}-` });
    expect(id).toEqual(nameId);
  });

  it('has no circular dependency between resources', () => {
    expect(findCycle(resourceDependencies(template))).toEqual([]);
  });

  it('keeps the bucket private, TLS-only, and cleans up unfinished uploads', () => {
    const bucket = props('IoBucket');
    expect(Object.values(bucket.PublicAccessBlockConfiguration as Json)).toEqual([true, true, true, true]);
    const rules = (bucket.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules.some((r) => r.AbortIncompleteMultipartUpload !== undefined)).toBe(true);
    const statements = (props('IoBucketPolicy').PolicyDocument as { Statement: Json[] }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });
});
