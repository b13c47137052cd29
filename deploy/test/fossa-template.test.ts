// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings
import { describe, expect, it } from 'vitest';
import { asList, type Json, templateFixture } from './support/template-fixture.ts';

// What fossa.yaml must hold beyond the generic checks (spec, references, parameters, environment
// against the node and gateway config schemas): Fargate Spot's 120 s stop window, both capacity
// providers, a node role that reaches only this stack's queue, table and bucket, and a gateway
// password that never appears as plain environment.

const { template, props, namesOfType, statements } = templateFixture('fossa.yaml');

function containers(taskDefinition: string): Json[] {
  return props(taskDefinition).ContainerDefinitions as Json[];
}

/** Logical ids a value refers to through Ref, GetAtt and ${...} in Sub. */
function referencedNames(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) referencedNames(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt')
        found.add(String(Array.isArray(inner) ? inner[0] : inner).split('.')[0] ?? '');
      else if (key === 'Fn::Sub') {
        const text = String(Array.isArray(inner) ? inner[0] : inner);
        for (const m of text.matchAll(/\$\{([A-Za-z0-9:]+)[.}]/g)) found.add(m[1] ?? '');
      }
      referencedNames(inner, found);
    }
  }
  return found;
}

describe('fossa.yaml capacity', () => {
  it('gives the cluster both Fargate capacity providers and runs the node service on FARGATE_SPOT', () => {
    const cluster = props('Cluster');
    expect(cluster.CapacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    const strategy = props('NodeService').CapacityProviderStrategy as Json[];
    const spot = strategy.find((s) => s.CapacityProvider === 'FARGATE_SPOT');
    expect(spot?.Weight).toEqual({ Ref: 'SpotWeight' });
    // A service may only use providers its cluster has.
    for (const service of namesOfType('AWS::ECS::Service'))
      for (const entry of props(service).CapacityProviderStrategy as Json[])
        expect(cluster.CapacityProviders).toContain(entry.CapacityProvider);
  });

  it('gives the node container Fargate Spot’s full 120 s between SIGTERM and SIGKILL, and drains within it', () => {
    const [node] = containers('NodeTaskDefinition');
    expect(node?.StopTimeout).toBe(120);
    const grace = template.Parameters?.ShutdownGraceSeconds;
    expect(Number(grace?.MaxValue)).toBeLessThan(120);
    expect(node?.EntryPoint).toEqual(['spotjobs-fossa-node']);
    expect(node?.PortMappings).toEqual([{ ContainerPort: 2345, Protocol: 'tcp' }]);
  });

  it('runs every task definition as Linux x86_64 on Fargate (the only platform Fargate Spot has)', () => {
    for (const name of namesOfType('AWS::ECS::TaskDefinition')) {
      expect(props(name).RequiresCompatibilities).toEqual(['FARGATE']);
      expect(props(name).NetworkMode).toBe('awsvpc');
      expect(props(name).RuntimePlatform).toEqual({
        CpuArchitecture: 'X86_64',
        OperatingSystemFamily: 'LINUX',
      });
    }
  });

  it('deregisters load-balanced targets faster than Fargate Spot’s two-minute notice', () => {
    const groups = namesOfType('AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups.sort()).toEqual(['GatewayTargetGroup', 'NodeApiTargetGroup']);
    for (const group of groups) {
      const attributes = props(group).TargetGroupAttributes as { Key: string; Value: string }[];
      const delay = attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds');
      expect(Number(delay?.Value), group).toBeLessThan(120);
    }
  });

  it('never exposes the unauthenticated node API outside the VPC', () => {
    expect(props('NodeApiLoadBalancer').Scheme).toBe('internal');
    const ingress = props('NodeApiLoadBalancerSecurityGroup').SecurityGroupIngress as Json[];
    for (const rule of ingress)
      expect(rule.CidrIp).toEqual({ 'Fn::ImportValue': { 'Fn::Sub': '${NetworkStack}-VpcCidr' } });
  });
});

describe('fossa.yaml permissions', () => {
  it('lets the node role reach only this stack’s queue, dead-letter queue, table and bucket', () => {
    const own = new Set(['SubtaskQueue', 'SubtaskDeadLetterQueue', 'TaskTable', 'DataBucket']);
    for (const statement of statements('NodeTaskRole')) {
      expect(statement.Effect).toBe('Allow');
      for (const target of asList(statement.Resource)) {
        expect(typeof target).not.toBe('string'); // no literal ARN, no '*'
        const names = [...referencedNames(target)];
        expect(names.length).toBeGreaterThan(0);
        for (const name of names) expect(own, `${statement.Sid} reaches ${name}`).toContain(name);
      }
      for (const action of asList(statement.Action)) expect(action).not.toContain('*');
    }
  });

  it('lets the node’s models use the stack’s bucket for datasets, with exactly what S3BlobStore reads and writes', () => {
    const [node] = containers('NodeTaskDefinition');
    const environment = node?.Environment as { Name: string; Value: unknown }[];
    expect(environment.find((e) => e.Name === 'FOSSA_DATASET_BUCKETS')?.Value).toEqual({ Ref: 'DataBucket' });
    const s3 = statements('NodeTaskRole').filter((s) => asList(s.Action).some((a) => a.startsWith('s3:')));
    const byResource = s3.map((s) => [[...referencedNames(s.Resource)], asList(s.Action).sort()]);
    expect(byResource).toEqual([
      [['DataBucket'], ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject']],
      [['DataBucket'], ['s3:ListBucket']],
    ]);
    expect(s3[0]?.Resource).toEqual({ 'Fn::Sub': '${DataBucket.Arn}/*' });
    expect(s3[1]?.Resource).toEqual({ 'Fn::GetAtt': ['DataBucket', 'Arn'] });
  });

  it('lets the gateway list and describe only its own cluster’s tasks, and only read the table', () => {
    const gateway = statements('GatewayTaskRole');
    for (const statement of gateway.filter((s) => asList(s.Action).some((a) => a.startsWith('ecs:'))))
      expect(statement.Condition).toEqual({
        ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['Cluster', 'Arn'] } },
      });
    const tableActions = gateway.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('dynamodb:'));
    expect(tableActions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('keeps the node’s API port open to the VPC only', () => {
    const ingress = props('NodeSecurityGroup').SecurityGroupIngress as Json[];
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ FromPort: 2345, ToPort: 2345 });
    expect(ingress[0]?.CidrIp).toEqual({ 'Fn::ImportValue': { 'Fn::Sub': '${NetworkStack}-VpcCidr' } });
    const network = (props('NodeService').NetworkConfiguration as { AwsvpcConfiguration: Json })
      .AwsvpcConfiguration;
    expect(network.AssignPublicIp).toBe('DISABLED');
  });
});

describe('fossa.yaml gateway secret', () => {
  it('hands the credentials to the gateway as ECS secrets, never as plain environment', () => {
    const [gateway] = containers('GatewayTaskDefinition');
    const secrets = gateway?.Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((s) => s.Name).sort()).toEqual(['FOSSA_GATEWAY_PASSWORD', 'FOSSA_GATEWAY_USERNAME']);
    for (const secret of secrets) expect([...referencedNames(secret.ValueFrom)]).toEqual(['GatewaySecret']);
    for (const name of namesOfType('AWS::ECS::TaskDefinition'))
      for (const container of containers(name))
        for (const entry of (container.Environment ?? []) as unknown[]) {
          expect(JSON.stringify(entry)).not.toContain('FOSSA_GATEWAY_PASSWORD');
          expect(referencedNames(entry).has('GatewaySecret')).toBe(false);
        }
  });

  it('lets the execution role read that one secret and nothing else of Secrets Manager', () => {
    const reads = statements('ExecutionRole').filter((s) =>
      asList(s.Action).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]?.Resource).toEqual({ Ref: 'GatewaySecret' });
  });

  it('serves internet-facing gateways over TLS only', () => {
    const rule = (
      template as unknown as { Rules: Record<string, { RuleCondition: unknown; Assertions: Json[] }> }
    ).Rules.PublicGatewayNeedsTls;
    expect(rule?.RuleCondition).toEqual({ 'Fn::Equals': [{ Ref: 'GatewayScheme' }, 'internet-facing'] });
    expect(rule?.Assertions[0]?.Assert).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'GatewayCertificateArn' }, ''] }],
    });
  });
});
