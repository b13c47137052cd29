// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings in fixtures and findings
import { describe, expect, it } from 'vitest';
import { checkLeastPrivilege } from '../src/check-least-privilege.ts';
import { parseTemplate } from '../src/template-file.ts';

const check = (yaml: string) => checkLeastPrivilege(parseTemplate(yaml));

/** A role with one inline policy statement (YAML flow mapping). */
const role = (statement: string) => `
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{ Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [${statement}]
`;

describe('checkLeastPrivilege: IAM', () => {
  it('accepts scoped statements, Describe* on *, a conditioned PassRole and Deny statements', () => {
    const findings = check(
      role(`
              { Effect: Allow, Action: [sqs:ReceiveMessage, sqs:DeleteMessage], Resource: !GetAtt Queue.Arn },
              { Effect: Allow, Action: [ec2:DescribeInstances, ec2:Describe*], Resource: '*' },
              { Effect: Allow, Action: iam:PassRole, Resource: !GetAtt Role.Arn, Condition: { StringEquals: { iam:PassedToService: ecs-tasks.amazonaws.com } } },
              { Effect: Deny, Action: 's3:*', Resource: '*', Condition: { Bool: { aws:SecureTransport: 'false' } } }`),
    );
    expect(findings).toEqual([]);
  });

  it("reports Action '*' and service:* wildcards", () => {
    const findings = check(role(`{ Effect: Allow, Action: ['*', 's3:*'], Resource: !GetAtt Queue.Arn }`));
    expect(findings.map((f) => f.message)).toEqual([
      "Action '*' grants every action",
      "Action 's3:*' grants every action",
      // '*' includes iam:PassRole.
      'iam:PassRole without an iam:PassedToService condition',
    ]);
    expect(findings[0]?.path).toBe('Resources.Role.Properties.Policies[0].PolicyDocument.Statement[0]');
  });

  it('reports a family wildcard such as s3:Get* (a later action falls into it unseen)', () => {
    const findings = check(
      role(`{ Effect: Allow, Action: ['s3:Get*', 's3:PutObject'], Resource: !GetAtt Queue.Arn }`),
    );
    expect(findings.map((f) => f.message)).toEqual([
      "Action 's3:Get*' grants a family of actions, today's and future ones: name them",
    ]);
  });

  it("reports Resource '*' inside an !If branch as well", () => {
    const findings = check(
      role(`{ Effect: Allow, Action: sqs:SendMessage, Resource: !If [Wide, '*', !GetAtt Queue.Arn] }`),
    );
    expect(findings.map((f) => f.message)).toEqual([
      "Resource '*' for sqs:SendMessage, which can be scoped to resources (name them)",
    ]);
  });

  it("reports Resource '*' for actions that have resource-level permissions", () => {
    const findings = check(
      role(`{ Effect: Allow, Action: [ec2:DescribeInstances, sqs:SendMessage], Resource: '*' }`),
    );
    expect(findings.map((f) => f.message)).toEqual([
      "Resource '*' for sqs:SendMessage, which can be scoped to resources (name them)",
    ]);
  });

  it('reports iam:PassRole on * and PassRole without iam:PassedToService', () => {
    const onEverything = check(role(`{ Effect: Allow, Action: iam:PassRole, Resource: '*' }`)).map(
      (f) => f.message,
    );
    expect(onEverything).toContain('iam:PassRole on Resource * lets the holder hand any role to any service');
    expect(onEverything).toContain('iam:PassRole without an iam:PassedToService condition');
    const unconditioned = check(
      role(`{ Effect: Allow, Action: [iam:PassRole], Resource: !GetAtt Role.Arn }`),
    );
    expect(unconditioned.map((f) => f.message)).toEqual([
      'iam:PassRole without an iam:PassedToService condition',
    ]);
  });

  it('reports ecs:ListTasks on * without an ecs:cluster condition', () => {
    const statement = (condition: string) =>
      `{ Effect: Allow, Action: ecs:ListTasks, Resource: '*'${condition} }`;
    expect(
      check(role(statement(', Condition: { ArnEquals: { ecs:cluster: !GetAtt Cluster.Arn } }'))),
    ).toEqual([]);
    expect(check(role(statement(''))).map((f) => f.message)).toEqual([
      "ecs:ListTasks on Resource '*' needs an ecs:cluster condition naming the cluster",
    ]);
  });

  it('checks both branches of a conditional statement', () => {
    const findings = check(
      role(`!If [C, { Effect: Allow, Action: ses:SendEmail, Resource: '*' }, !Ref AWS::NoValue],
              { Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn }`),
    );
    expect(findings).toEqual([
      {
        path: 'Resources.Role.Properties.Policies[0].PolicyDocument.Statement[0]',
        message: "Resource '*' for ses:SendEmail, which can be scoped to resources (name them)",
      },
    ]);
  });

  it('reports NotAction in an Allow statement', () => {
    const findings = check(role(`{ Effect: Allow, NotAction: iam:*, Resource: !GetAtt Queue.Arn }`));
    expect(findings.map((f) => f.message)).toEqual([
      'an Allow statement with NotAction grants nearly everything',
    ]);
  });
});

describe('checkLeastPrivilege: logging', () => {
  const lambda = (name: string, extra = '') => `
  ${name}:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code: { ZipFile: x }${extra}`;

  it('accepts functions, containers, jobs and stages that log to declared groups with retention', () => {
    const findings = check(`
Resources:
  ByName:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: !Sub '/aws/lambda/\${Fn}', RetentionInDays: 30 }
  Shared:
    Type: AWS::Logs::LogGroup
    Properties: { RetentionInDays: 30 }
${lambda('Fn')}
${lambda('Other', '\n      LoggingConfig: { LogGroup: !Ref Shared }')}
${lambda('Named', "\n      FunctionName: !Sub '${AWS::StackName}-api'")}
  NamedLogs:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: !Sub '/aws/lambda/\${AWS::StackName}-api', RetentionInDays: 30 }
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: x
          LogConfiguration: { LogDriver: awslogs, Options: { awslogs-group: !Ref Shared, awslogs-region: !Ref AWS::Region } }
  Job:
    Type: AWS::Batch::JobDefinition
    Properties:
      Type: multinode
      NodeProperties:
        NumNodes: 2
        MainNode: 0
        NodeRangeProperties:
          - TargetNodes: '0:'
            Container: { Image: x, LogConfiguration: { LogDriver: awslogs, Options: { awslogs-group: !Ref Shared } } }
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: a
      AccessLogSetting: { DestinationArn: !GetAtt Shared.Arn, Format: x }
      MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', LoggingLevel: ERROR }]
  ExecutionLogs:
    Type: AWS::Logs::LogGroup
    Properties: { LogGroupName: !Sub 'API-Gateway-Execution-Logs_\${Api}/v1', RetentionInDays: 30 }
`);
    expect(findings).toEqual([]);
  });

  it('reports a log group without retention', () => {
    const findings = check(
      'Resources:\n  L:\n    Type: AWS::Logs::LogGroup\n    Properties: { LogGroupName: x }\n',
    );
    expect(findings).toEqual([
      {
        path: 'Resources.L.Properties',
        message: 'log group L has no RetentionInDays (logs would be kept forever)',
      },
    ]);
  });

  it('reports a function, container, job and stage without a declared log group', () => {
    const findings = check(`
Resources:
${lambda('Fn')}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - { Name: app, Image: x, LogConfiguration: { LogDriver: awslogs, Options: { awslogs-group: /ecs/implicit } } }
        - { Name: side, Image: x }
  Job:
    Type: AWS::Batch::JobDefinition
    Properties:
      Type: container
      ContainerProperties: { Image: x }
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: { RestApiId: a }
  Traced:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: a
      StageName: v1
      AccessLogSetting: { DestinationArn: !GetAtt Fn.Arn }
      MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', LoggingLevel: INFO }]
`);
    expect(findings.map((f) => f.path)).toEqual([
      'Resources.Fn',
      'Resources.Task.Properties.ContainerDefinitions[0].LogConfiguration.Options',
      'Resources.Task.Properties.ContainerDefinitions[1].LogConfiguration',
      'Resources.Job.Properties.ContainerProperties.LogConfiguration',
      'Resources.Stage.Properties',
      'Resources.Traced.Properties',
      'Resources.Traced.Properties.MethodSettings',
    ]);
  });
});
