// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings in fixtures and findings
import { describe, expect, it } from 'vitest';
import { checkReferences } from '../src/check-references.ts';
import { parseTemplate } from '../src/template-file.ts';

const check = (yaml: string) => checkReferences(parseTemplate(yaml));

describe('checkReferences', () => {
  it('accepts parameters, resources, pseudo parameters, Sub variables, escapes, conditions and DependsOn', () => {
    const findings = check(`
Parameters:
  Name: { Type: String }
  UseDlq: { Type: String, AllowedValues: ['true', 'false'] }
Conditions:
  WithDlq: !Equals [!Ref UseDlq, 'true']
  Both: !And [!Condition WithDlq, !Condition WithDlq]
Resources:
  Dlq:
    Type: AWS::SQS::Queue
    Condition: WithDlq
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: [Dlq]
    Properties:
      QueueName: !Sub '\${Name}-\${AWS::Region}-\${!Literal}'
      RedrivePolicy: !If [WithDlq, { deadLetterTargetArn: !GetAtt Dlq.Arn }, !Ref AWS::NoValue]
      Tags:
        - Key: k
          Value: !Sub ['\${Prefix}-\${Queue.Arn}', { Prefix: !Ref Name }]
Outputs:
  Arn: { Value: !GetAtt [Queue, Arn], Condition: Both }
`);
    expect(findings).toEqual([]);
  });

  it('reports a name given to both a parameter and a resource (CloudFormation refuses the template)', () => {
    const findings = check(`
Parameters:
  Balancer: { Type: String }
Conditions:
  Wanted: !Equals [!Ref Balancer, internal]
Resources:
  Balancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Condition: Wanted
`);
    expect(findings).toEqual([
      { path: 'Parameters.Balancer', message: 'Balancer names both a parameter and a resource' },
    ]);
  });

  it('reports a Ref to nothing', () => {
    expect(
      check('Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: { QueueName: !Ref Missing }\n'),
    ).toEqual([
      {
        path: 'Resources.Q.Properties.QueueName',
        message: 'Ref Missing: no parameter, resource or pseudo parameter of that name',
      },
    ]);
  });

  it('reports GetAtt and Sub targets that do not exist, and a misspelled pseudo parameter', () => {
    const findings = check(`
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt Nope.Arn
      Tags:
        - { Key: a, Value: !Sub '\${Nope.Arn}' }
        - { Key: b, Value: !Sub '\${AWS::Regoin}' }
        - { Key: c, Value: !Sub ['\${Local}', { Other: x }] }
`);
    expect(findings.map((f) => f.message)).toEqual([
      'Fn::GetAtt Nope: no such resource',
      'Fn::Sub ${Nope.Arn}: no resource Nope',
      'Fn::Sub ${AWS::Regoin}: no parameter, resource or pseudo parameter of that name',
      'Fn::Sub ${Local}: no parameter, resource or pseudo parameter of that name',
    ]);
  });

  it('reports an unused parameter (naming it in Metadata is not use)', () => {
    const findings = check(`
Metadata:
  AWS::CloudFormation::Interface:
    ParameterGroups: [{ Parameters: [Unused] }]
Parameters:
  Unused: { Type: String }
Resources:
  Q: { Type: AWS::SQS::Queue }
`);
    expect(findings).toEqual([{ path: 'Parameters.Unused', message: 'parameter Unused is never used' }]);
  });

  it('reports missing DependsOn targets, conditions and mappings', () => {
    const findings = check(`
Conditions:
  Real: !Equals [a, a]
  Chained: !Not [!Condition Missing1]
Resources:
  Q:
    Type: AWS::SQS::Queue
    DependsOn: Ghost
    Condition: Missing2
    Properties:
      QueueName: !If [Missing3, a, !FindInMap [NoMap, a, b]]
Outputs:
  O: { Value: x, Condition: Missing4 }
`);
    expect(findings.map((f) => f.message).sort()).toEqual([
      'DependsOn Ghost: no such resource',
      'Fn::FindInMap NoMap: no such mapping',
      'condition Missing1 is not defined',
      'condition Missing2 is not defined',
      'condition Missing3 is not defined',
      'condition Missing4 is not defined',
    ]);
  });
});
