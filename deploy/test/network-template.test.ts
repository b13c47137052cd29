// Facts of the network template that no generic check knows: three AZs, private subnets routed
// through the NAT of the chosen mode (each mode's conditions evaluated as CloudFormation would),
// gateway endpoints on the private route tables, and exactly the outputs other stacks import.
import { describe, expect, it } from 'vitest';
import { subArgument } from '../src/sub-template.ts';
import { intrinsicOf, isRecord } from '../src/template-intrinsics.ts';
import { templateFixture } from './support/template-fixture.ts';

const { template, resource } = templateFixture('network.yaml');
const privateTables = ['PrivateRouteTable1', 'PrivateRouteTable2', 'PrivateRouteTable3'];

const property = (name: string, key: string): unknown => resource(name).Properties?.[key];

/** One deployment's parameter values: the template's defaults, overridden. */
function parameters(overrides: Record<string, string>): Record<string, string> {
  const defaults = Object.entries(template.Parameters ?? {}).map(([name, p]) => [
    name,
    String(p.Default ?? ''),
  ]);
  return { ...Object.fromEntries(defaults), ...overrides };
}

/** Evaluates the template's Conditions for `values`, as CloudFormation does before creating anything. */
function conditions(values: Record<string, string>): Record<string, boolean> {
  const result: Record<string, boolean> = {};
  const scalar = (value: unknown): string => {
    const call = intrinsicOf(value);
    if (call?.name === 'Ref' && typeof call.argument === 'string') return values[call.argument] ?? '';
    return String(value);
  };
  const evaluate = (value: unknown): boolean => {
    const call = intrinsicOf(value);
    if (isRecord(value) && typeof value.Condition === 'string') return condition(value.Condition);
    const items = Array.isArray(call?.argument) ? call.argument : [];
    switch (call?.name) {
      case 'Fn::Equals':
        return scalar(items[0]) === scalar(items[1]);
      case 'Fn::And':
        return items.every(evaluate);
      case 'Fn::Or':
        return items.some(evaluate);
      case 'Fn::Not':
        return !evaluate(items[0]);
      default:
        throw new Error(`unexpected condition ${JSON.stringify(value)}`);
    }
  };
  const condition = (name: string): boolean => {
    result[name] ??= evaluate(template.Conditions?.[name]);
    return result[name];
  };
  for (const name of Object.keys(template.Conditions ?? {})) condition(name);
  return result;
}

/** `value` with every Fn::If decided by `active`, and properties set to AWS::NoValue removed. */
function decide(value: unknown, active: Record<string, boolean>): unknown {
  if (Array.isArray(value))
    return value.map((item) => decide(item, active)).filter((item) => item !== undefined);
  const call = intrinsicOf(value);
  if (call?.name === 'Fn::If' && Array.isArray(call.argument)) {
    const [name, whenTrue, whenFalse] = call.argument as [string, unknown, unknown];
    return decide(active[name] ? whenTrue : whenFalse, active);
  }
  if (call?.name === 'Ref' && call.argument === 'AWS::NoValue') return undefined;
  if (!isRecord(value)) return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, decide(inner, active)] as const);
  return Object.fromEntries(entries.filter(([, inner]) => inner !== undefined));
}

/** The resources a deployment with `values` creates. */
function created(values: Record<string, string>): Set<string> {
  const active = conditions(values);
  return new Set(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Condition === undefined || active[r.Condition])
      .map(([name]) => name),
  );
}

/** Where each private route table's default route points, for a deployment with `values`. */
function privateDefaultRoutes(values: Record<string, string>): Record<string, unknown> {
  const active = conditions(values);
  const routes: Record<string, unknown> = {};
  for (const [name, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::EC2::Route') continue;
    const props = decide(r.Properties, active) as Record<string, unknown>;
    const table = intrinsicOf(props.RouteTableId)?.argument;
    if (typeof table !== 'string' || !privateTables.includes(table)) continue;
    expect(props.DestinationCidrBlock, name).toBe('0.0.0.0/0');
    const { RouteTableId: _table, DestinationCidrBlock: _cidr, ...target } = props;
    routes[table] = target;
  }
  return routes;
}

describe('network.yaml', () => {
  it('puts one public and one private subnet in each of three distinct AZs, on six distinct blocks', () => {
    const zones = (prefix: string) =>
      [1, 2, 3].map((i) => property(`${prefix}Subnet${i}`, 'AvailabilityZone'));
    const blocks = (prefix: string) =>
      [1, 2, 3].map(
        (i) =>
          (property(`${prefix}Subnet${i}`, 'CidrBlock') as { 'Fn::Select': [number, unknown] })[
            'Fn::Select'
          ][0],
      );
    const distinctZones = [0, 1, 2].map((i) => ({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] }));
    expect(zones('Private')).toEqual(distinctZones);
    expect(zones('Public')).toEqual(distinctZones);
    expect(new Set([...blocks('Public'), ...blocks('Private')]).size).toBe(6);
    for (const i of [1, 2, 3]) expect(property(`PrivateSubnet${i}`, 'MapPublicIpOnLaunch')).toBe(false);
  });

  it('gives each private subnet its own route table', () => {
    const associations = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::EC2::SubnetRouteTableAssociation')
      .map((r) => [r.Properties?.SubnetId, r.Properties?.RouteTableId]);
    expect(associations).toEqual(
      expect.arrayContaining(
        [1, 2, 3].map((i) => [{ Ref: `PrivateSubnet${i}` }, { Ref: `PrivateRouteTable${i}` }]),
      ),
    );
  });

  it('routes all three private subnets through the single NAT gateway by default', () => {
    const values = parameters({});
    expect(values).toMatchObject({ NatMode: 'gateway', NatGatewayCount: '1' });
    const routes = privateDefaultRoutes(values);
    for (const table of privateTables)
      expect(routes[table]).toEqual({ NatGatewayId: { Ref: 'NatGateway1' } });
    const made = created(values);
    expect(['NatGateway1', 'NatGateway1Eip'].every((n) => made.has(n))).toBe(true);
    expect(['NatGateway2', 'NatGateway3', 'NatInstance'].some((n) => made.has(n))).toBe(false);
  });

  it('routes each private subnet through its own AZ’s NAT gateway with NatGatewayCount 3', () => {
    const values = parameters({ NatMode: 'gateway', NatGatewayCount: '3' });
    const routes = privateDefaultRoutes(values);
    privateTables.forEach((table, i) => {
      expect(routes[table]).toEqual({ NatGatewayId: { Ref: `NatGateway${i + 1}` } });
    });
    const made = created(values);
    expect([1, 2, 3].every((i) => made.has(`NatGateway${i}`) && made.has(`NatGateway${i}Eip`))).toBe(true);
    expect(made.has('NatInstance')).toBe(false);
    // Each gateway sits in the public subnet of its own AZ.
    for (const i of [1, 2, 3])
      expect(property(`NatGateway${i}`, 'SubnetId')).toEqual({ Ref: `PublicSubnet${i}` });
  });

  it('routes all private subnets through the NAT instance in instance mode, with no gateway created', () => {
    const values = parameters({ NatMode: 'instance' });
    const routes = privateDefaultRoutes(values);
    for (const table of privateTables) expect(routes[table]).toEqual({ InstanceId: { Ref: 'NatInstance' } });
    const made = created(values);
    expect(
      ['NatInstance', 'NatInstanceSecurityGroup', 'NatInstanceLaunchTemplate'].every((n) => made.has(n)),
    ).toBe(true);
    expect([...made].some((n) => n.startsWith('NatGateway'))).toBe(false);
  });

  it('makes the NAT instance a router: no source/dest check, forwarding and masquerade on, IMDSv2, AL2023', () => {
    expect(property('NatInstance', 'SourceDestCheck')).toBe(false);
    expect(property('NatInstance', 'SubnetId')).toEqual({ Ref: 'PublicSubnet1' });
    const script = subArgument(
      intrinsicOf(intrinsicOf(property('NatInstance', 'UserData'))?.argument)?.argument,
    );
    expect(script?.text).toMatch(/net\.ipv4\.ip_forward = 1/);
    expect(script?.text).toMatch(
      /iptables -t nat -A POSTROUTING -o "\$iface" -s \$\{VpcCidr\} -j MASQUERADE/,
    );
    expect(script?.text).toMatch(/iptables-save > \/etc\/sysconfig\/iptables/);
    const launchData = resource('NatInstanceLaunchTemplate').Properties?.LaunchTemplateData;
    expect(launchData).toMatchObject({ MetadataOptions: { HttpTokens: 'required' } });
    const ami = template.Parameters?.NatInstanceAmi;
    expect(ami?.Type).toBe('AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    expect(String(ami?.Default)).toMatch(/^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-/);
    // The NAT instance lets in what the VPC sends, and nothing from elsewhere.
    const ingress = resource('NatInstanceSecurityGroup').Properties?.SecurityGroupIngress as unknown[];
    expect(ingress.map((rule) => (rule as Record<string, unknown>).CidrIp)).toEqual([{ Ref: 'VpcCidr' }]);
  });

  it('attaches the S3 and DynamoDB gateway endpoints to exactly the three private route tables', () => {
    for (const [name, service] of [
      ['S3GatewayEndpoint', 's3'],
      ['DynamoDbGatewayEndpoint', 'dynamodb'],
    ] as const) {
      expect(property(name, 'VpcEndpointType')).toBe('Gateway');
      expect(property(name, 'ServiceName')).toEqual({
        'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}`,
      });
      expect(property(name, 'RouteTableIds')).toEqual(privateTables.map((table) => ({ Ref: table })));
      expect(resource(name).Condition).toBeUndefined();
    }
  });

  it('creates the SQS interface endpoint only when asked, in the private subnets, with private DNS and HTTPS from the VPC', () => {
    expect(created(parameters({ SqsEndpoint: 'false' })).has('SqsInterfaceEndpoint')).toBe(false);
    const made = created(parameters({ SqsEndpoint: 'true' }));
    expect(made.has('SqsInterfaceEndpoint') && made.has('SqsEndpointSecurityGroup')).toBe(true);
    expect(property('SqsInterfaceEndpoint', 'PrivateDnsEnabled')).toBe(true);
    expect(property('SqsInterfaceEndpoint', 'SubnetIds')).toEqual(
      [1, 2, 3].map((i) => ({ Ref: `PrivateSubnet${i}` })),
    );
    expect(property('SqsEndpointSecurityGroup', 'SecurityGroupIngress')).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: { Ref: 'VpcCidr' } }),
    ]);
  });

  it('outputs exactly the five values of the deploy contract, lists in AZ order', () => {
    expect(Object.keys(template.Outputs ?? {}).sort()).toEqual(
      ['PrivateRouteTableIds', 'PrivateSubnetIds', 'PublicSubnetIds', 'VpcCidr', 'VpcId'].sort(),
    );
    expect(template.Outputs?.PrivateSubnetIds?.Value).toEqual({
      'Fn::Join': [',', [1, 2, 3].map((i) => ({ Ref: `PrivateSubnet${i}` }))],
    });
    expect(template.Outputs?.PrivateRouteTableIds?.Value).toEqual({
      'Fn::Join': [',', privateTables.map((table) => ({ Ref: table }))],
    });
  });
});
