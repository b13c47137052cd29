import { beforeAll, describe, expect, it } from 'vitest';
import { checkResourceTypes } from '../src/check-resource-types.ts';
import { loadResourceSpec, type ResourceSpec } from '../src/resource-spec.ts';
import { parseTemplate } from '../src/template-file.ts';

let spec: ResourceSpec;
beforeAll(async () => {
  spec = await loadResourceSpec();
}, 60_000);

const check = (yaml: string) => checkResourceTypes(parseTemplate(yaml), spec);

describe('checkResourceTypes', () => {
  it('accepts known types, nested properties, intrinsics and real attributes', () => {
    const findings = check(`
Parameters:
  Retention: { Type: Number }
Resources:
  Dlq:
    Type: AWS::SQS::Queue
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 5
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !Ref Retention
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/x'
      Code: { S3Bucket: b, S3Key: k }
      Environment:
        Variables:
          QUEUE: !Ref Queue
          ARN: !Sub '\${Queue.Arn}'
      LoggingConfig: { LogGroup: !Ref Logs }
      Tags: [{ Key: spotjobs:system, Value: test }]
Outputs:
  Url: { Value: !GetAtt Queue.QueueUrl }
`);
    expect(findings).toEqual([]);
  });

  it('reports an unknown resource type', () => {
    expect(check('Resources:\n  Q:\n    Type: AWS::SQS::Queeu\n')).toEqual([
      { path: 'Resources.Q.Type', message: 'AWS::SQS::Queeu is not a CloudFormation resource type' },
    ]);
  });

  it('reports a misspelled property, top level and nested', () => {
    const findings = check(`
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimout: 30
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code: { S3Bucket: b, S3Key: k }
      Environment: { Varibles: { A: b } }
`);
    expect(findings.map((f) => f.path)).toEqual([
      'Resources.Q.Properties.VisibilityTimout',
      'Resources.Fn.Properties.Environment.Varibles',
    ]);
    expect(findings[0]?.message).toBe('AWS::SQS::Queue has no property VisibilityTimout');
  });

  it('reports a misspelled property inside a list of structs', () => {
    const findings = check(`
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: x
          Enviroment: []
`);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.path).toBe('Resources.Task.Properties.ContainerDefinitions[0].Enviroment');
  });

  it('reports a missing required property', () => {
    const findings = check(
      'Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: { Code: { ZipFile: x } }\n',
    );
    expect(findings).toEqual([
      { path: 'Resources.Fn.Properties', message: 'AWS::Lambda::Function requires property Role' },
    ]);
  });

  it('reports a list where a struct goes and a struct where a scalar goes', () => {
    const findings = check(`
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: { Name: x }
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code: { ZipFile: x }
      Environment: [a]
`);
    expect(findings.map((f) => f.path)).toEqual([
      'Resources.Q.Properties.QueueName',
      'Resources.Fn.Properties.Environment',
    ]);
  });

  it('reports GetAtt attributes the resource type does not have, in GetAtt and in Sub', () => {
    const findings = check(`
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt Q.Url
  P:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '\${Q.Name}-x'
`);
    expect(findings.map((f) => f.message)).toEqual([
      'AWS::SQS::Queue has no attribute Url (it has Arn, QueueName, QueueUrl)',
      'AWS::SQS::Queue has no attribute Name (it has Arn, QueueName, QueueUrl)',
    ]);
  });

  it('checks both branches of a Fn::If', () => {
    const findings = check(`
Conditions:
  C: !Equals [a, a]
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: r
      Code: { ZipFile: x }
      VpcConfig: !If [C, { SubnetIds: [a], SecurityGroupIds: [b] }, { SubnetIDs: [a] }]
      Environment: !If [C, !Ref AWS::NoValue, { Variables: { A: b } }]
`);
    expect(findings).toEqual([
      {
        path: 'Resources.Fn.Properties.VpcConfig.Fn::If[2].SubnetIDs',
        message: 'VpcConfig has no property SubnetIDs',
      },
    ]);
  });

  it('reports an unknown resource attribute key', () => {
    const findings = check('Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    DeletionPolcy: Retain\n');
    expect(findings).toEqual([
      { path: 'Resources.Q.DeletionPolcy', message: 'a resource has no attribute DeletionPolcy' },
    ]);
  });
});
