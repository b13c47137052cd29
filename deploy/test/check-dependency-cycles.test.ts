import { describe, expect, it } from 'vitest';
import { checkDependencyCycles, resourceDependencies } from '../src/check-dependency-cycles.ts';
import { parseTemplate } from '../src/template-file.ts';

describe('checkDependencyCycles', () => {
  it('finds a loop through Ref, GetAtt, Sub variables and DependsOn', () => {
    const template = parseTemplate(`
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: Permission
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !GetAtt Function.Arn
      SourceArn: !Sub 'arn:aws:s3:::\${Bucket}'
  Function:
    Type: AWS::Lambda::Function
`);
    expect(checkDependencyCycles(template)).toEqual([
      { path: 'Resources', message: 'circular dependency: Bucket → Permission → Bucket' },
    ]);
  });

  it('follows references in Metadata too (they order creation as well)', () => {
    const template = parseTemplate(`
Resources:
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Ready
  Ready:
    Type: AWS::CloudFormation::WaitConditionHandle
    Metadata:
      After: !Ref Listener
`);
    expect(checkDependencyCycles(template)).toEqual([
      { path: 'Resources', message: 'circular dependency: Listener → Ready → Listener' },
    ]);
  });

  it('ignores Sub variables bound locally, pseudo parameters and parameters', () => {
    const template = parseTemplate(`
Parameters:
  Name: { Type: String }
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub ['\${Name}-\${AWS::Region}-\${Policy}', { Policy: x }]
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
`);
    expect(resourceDependencies(template)).toEqual(
      new Map([
        ['Bucket', new Set()],
        ['Policy', new Set(['Bucket'])],
      ]),
    );
    expect(checkDependencyCycles(template)).toEqual([]);
  });
});
