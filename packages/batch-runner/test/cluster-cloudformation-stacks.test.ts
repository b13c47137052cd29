import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { BackendError } from '@spotjobs/core';
import { ManualClock } from '@spotjobs/core/testing';
import { describe, expect, it } from 'vitest';
import { CloudFormationClusterStacks, rootCause } from '../src/aws-ports/cloudformation-cluster-stacks.ts';
import { StackRejectedError, type StackSpec } from '../src/aws-ports/cluster-stacks.ts';
import { drive, type FakeResponse, fakeAwsHttp } from './trigger-test-kit.ts';

const NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const STACK_ID =
  'arn:aws:cloudformation:eu-west-2:123456789012:stack/af--alice--demo/7c1e2a90-f1d2-11f0-9b3c-0a1b2c3d4e5f';

const spec: StackSpec = {
  stackName: 'af--alice--demo',
  templateUrl: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
  parameters: { FlightProfiles: 'alice', AccessUsername: 'alice', ComputeMaxNodes: '6' },
  capabilities: ['CAPABILITY_IAM'],
  tags: { project: 'alice', 'spotjobs:owner': 'alice', 'spotjobs:cluster': 'demo' },
  clientRequestToken: `spotjobs-create-${'0a'.repeat(24)}`,
  timeoutMinutes: 30,
  onFailure: 'DELETE',
};

const ok = (action: string, result: string): FakeResponse => ({
  status: 200,
  body: `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></${action}Response>`,
});
const fault = (status: number, code: string, message: string): FakeResponse => ({
  status,
  body: `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-2</RequestId></ErrorResponse>`,
});

const stackXml = `<Stacks><member>
  <StackName>af--alice--demo</StackName><StackId>${STACK_ID}</StackId>
  <CreationTime>2026-03-02T11:02:21.508Z</CreationTime><DeletionTime>2026-03-02T16:45:09.002Z</DeletionTime>
  <StackStatus>CREATE_COMPLETE</StackStatus><StackStatusReason>done</StackStatusReason>
  <Tags><member><Key>project</Key><Value>alice</Value></member><member><Key>spotjobs:owner</Key><Value>alice</Value></member></Tags>
  <Outputs><member><OutputKey>LoginAddress</OutputKey><OutputValue>203.0.113.7</OutputValue></member></Outputs>
</member></Stacks>`;

function adapter(respond: Parameters<typeof fakeAwsHttp>[0]) {
  const http = fakeAwsHttp(respond);
  const clock = new ManualClock();
  const stacks = new CloudFormationClusterStacks({
    client: new CloudFormationClient(http.clientConfig),
    retry: { clock },
  });
  return { http, clock, stacks };
}

const action = (form: URLSearchParams) => form.get('Action');

describe('CloudFormationClusterStacks (CloudFormation through the SDK, on a fake HTTP handler)', () => {
  it('creates with sorted parameters and tags, capabilities, the request token, its own timeout and OnFailure', async () => {
    const { http, stacks } = adapter(() => ok('CreateStack', `<StackId>${STACK_ID}</StackId>`));

    expect(await stacks.create(spec)).toEqual({ stackId: STACK_ID, created: true });

    const form = http.requests[0]!.form;
    expect(Object.fromEntries(form)).toEqual({
      Action: 'CreateStack',
      Version: '2010-05-15',
      StackName: 'af--alice--demo',
      TemplateURL: 'https://s3.amazonaws.com/templates-bucket/flight-solo.template',
      'Parameters.member.1.ParameterKey': 'AccessUsername',
      'Parameters.member.1.ParameterValue': 'alice',
      'Parameters.member.2.ParameterKey': 'ComputeMaxNodes',
      'Parameters.member.2.ParameterValue': '6',
      'Parameters.member.3.ParameterKey': 'FlightProfiles',
      'Parameters.member.3.ParameterValue': 'alice',
      'Capabilities.member.1': 'CAPABILITY_IAM',
      'Tags.member.1.Key': 'project',
      'Tags.member.1.Value': 'alice',
      'Tags.member.2.Key': 'spotjobs:cluster',
      'Tags.member.2.Value': 'demo',
      'Tags.member.3.Key': 'spotjobs:owner',
      'Tags.member.3.Value': 'alice',
      ClientRequestToken: spec.clientRequestToken,
      TimeoutInMinutes: '30',
      OnFailure: 'DELETE',
    });
  });

  it('passes the CloudFormation service role when one is set', async () => {
    const { http, stacks } = adapter(() => ok('CreateStack', `<StackId>${STACK_ID}</StackId>`));

    await stacks.create({ ...spec, roleArn: 'arn:aws:iam::123456789012:role/cluster-stacks' });

    expect(http.requests[0]?.form.get('RoleARN')).toBe('arn:aws:iam::123456789012:role/cluster-stacks');
  });

  it.each(['AlreadyExistsException', 'TokenAlreadyExistsException'])(
    'treats %s as success: answers the existing stack, created false',
    async (code) => {
      const { http, stacks } = adapter((request) =>
        action(request.form) === 'CreateStack'
          ? fault(400, code, 'Stack [af--alice--demo] already exists')
          : ok('DescribeStacks', stackXml),
      );

      expect(await stacks.create(spec)).toEqual({ stackId: STACK_ID, created: false });
      expect(http.requests.map((r) => action(r.form))).toEqual(['CreateStack', 'DescribeStacks']);
      expect(http.requests[1]?.form.get('StackName')).toBe('af--alice--demo');
    },
  );

  it.each([
    ['ValidationError', 'Parameter ComputeInstanceTypeOther failed to satisfy constraint'],
    ['InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_NAMED_IAM]'],
    ['LimitExceededException', 'Limit on the number of stacks has been exceeded'],
  ])('turns %s into StackRejectedError with the reason, without retrying', async (code, message) => {
    const { http, stacks } = adapter(() => fault(400, code, message));

    const error = await stacks.create(spec).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(StackRejectedError);
    expect((error as StackRejectedError).reason).toBe(message);
    expect(http.requests).toHaveLength(1);
  });

  it('retries Throttling, then succeeds', async () => {
    const { http, clock, stacks } = adapter((_r, i) =>
      i < 2 ? fault(400, 'Throttling', 'Rate exceeded') : ok('CreateStack', `<StackId>${STACK_ID}</StackId>`),
    );

    expect(await drive(clock, stacks.create(spec), 100)).toEqual({ stackId: STACK_ID, created: true });
    expect(http.requests).toHaveLength(3);
  });

  it('reports a persistent server fault as a retryable BackendError', async () => {
    const { clock, stacks } = adapter(() => ({ ...fault(500, 'InternalFailure', 'internal'), status: 500 }));

    const error = await drive(clock, stacks.describe(STACK_ID), 100).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).retryable).toBe(true);
  });

  it('describes a stack: status, reason, times, tags, outputs', async () => {
    const { stacks } = adapter(() => ok('DescribeStacks', stackXml));

    expect(await stacks.describe(STACK_ID)).toEqual({
      stackId: STACK_ID,
      stackName: 'af--alice--demo',
      status: 'CREATE_COMPLETE',
      statusReason: 'done',
      createdAt: new Date('2026-03-02T11:02:21.508Z'),
      deletedAt: new Date('2026-03-02T16:45:09.002Z'),
      tags: { project: 'alice', 'spotjobs:owner': 'alice' },
      outputs: { LoginAddress: '203.0.113.7' },
    });
  });

  it('answers undefined for a stack that does not exist (CloudFormation says so with a ValidationError)', async () => {
    const { stacks } = adapter(() =>
      fault(400, 'ValidationError', 'Stack with id af--alice--nope does not exist'),
    );

    expect(await stacks.describe('af--alice--nope')).toBeUndefined();
  });

  it('names the root cause of a failure from the stack events, across pages', async () => {
    const event = (status: string, logical: string, type: string, reason = '') =>
      `<member><StackId>${STACK_ID}</StackId><EventId>${logical}-${status}</EventId><StackName>af--alice--demo</StackName>` +
      `<LogicalResourceId>${logical}</LogicalResourceId><ResourceType>${type}</ResourceType>` +
      `<Timestamp>2026-03-02T11:05:00Z</Timestamp><ResourceStatus>${status}</ResourceStatus>` +
      (reason ? `<ResourceStatusReason>${reason}</ResourceStatusReason>` : '') +
      '</member>';
    const stack = 'AWS::CloudFormation::Stack';
    const pages = [
      // Newest first, as CloudFormation lists them.
      `<StackEvents>${event('ROLLBACK_IN_PROGRESS', 'af--alice--demo', stack, 'The following resource(s) failed to create: [Master, Compute]. Rollback requested by user.')}${event('CREATE_FAILED', 'Compute', 'AWS::AutoScaling::AutoScalingGroup', 'Resource creation cancelled')}</StackEvents><NextToken>page-2</NextToken>`,
      `<StackEvents>${event('CREATE_FAILED', 'Master', 'AWS::EC2::Instance', 'We currently do not have sufficient c4.large capacity')}${event('CREATE_IN_PROGRESS', 'Master', 'AWS::EC2::Instance')}${event('CREATE_IN_PROGRESS', 'af--alice--demo', stack, 'User Initiated')}</StackEvents><NextToken>page-3</NextToken>`,
      `<StackEvents>${event('CREATE_FAILED', 'Old', 'AWS::EC2::Instance', 'an earlier operation')}</StackEvents>`,
    ];
    const { http, stacks } = adapter((_r, i) => ok('DescribeStackEvents', pages[i] ?? '<StackEvents/>'));

    const reason = await stacks.failureReason(STACK_ID, 'create');

    expect(reason).toBe('Master (AWS::EC2::Instance): We currently do not have sufficient c4.large capacity');
    expect(http.requests.map((r) => r.form.get('NextToken'))).toEqual([null, 'page-2']);
  });

  it('deletes with the request token', async () => {
    const { http, stacks } = adapter(() => ({
      status: 200,
      body: `<DeleteStackResponse xmlns="${NS}"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteStackResponse>`,
    }));

    await stacks.delete(STACK_ID, 'spotjobs-delete-abc');

    expect(Object.fromEntries(http.requests[0]!.form)).toEqual({
      Action: 'DeleteStack',
      Version: '2010-05-15',
      StackName: STACK_ID,
      ClientRequestToken: 'spotjobs-delete-abc',
    });
  });
});

describe('rootCause', () => {
  it("falls back to the stack's own failure reason when no resource failed", () => {
    expect(
      rootCause(
        [
          {
            StackId: 's',
            EventId: '2',
            StackName: 'n',
            Timestamp: new Date(),
            LogicalResourceId: 'n',
            ResourceType: 'AWS::CloudFormation::Stack',
            ResourceStatus: 'ROLLBACK_IN_PROGRESS',
            ResourceStatusReason: 'Create stack operation timed out after 30 minutes',
          },
        ],
        'create',
      ),
    ).toBe('Create stack operation timed out after 30 minutes');
    expect(rootCause([], 'delete')).toBeUndefined();
  });
});
