// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings in fixtures and findings
import { describe, expect, it } from 'vitest';
import { checkConventions } from '../src/check-conventions.ts';
import { parseTemplate } from '../src/template-file.ts';

const check = (yaml: string) => checkConventions(parseTemplate(yaml));

const good = `
Parameters:
  LogRetentionDays: { Type: Number, Default: 30, AllowedValues: [7, 30, 90, 365] }
  HostAmi:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: { RetentionInDays: !Ref LogRetentionDays }
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs24.x
      Architectures: [x86_64]
      Role: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/x'
      Environment: { Variables: { SERVICE: ec2.amazonaws.com } }
  Hosts:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: { ImageId: !Ref HostAmi }
Outputs:
  Arn: { Value: !Sub 'arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:q' }
`;

describe('checkConventions', () => {
  it('accepts portable ARNs, an SSM image parameter, nodejs24.x on x86_64 and parameterised retention', () => {
    expect(check(good)).toEqual([]);
  });

  it('reports a hard-coded partition, region and account, in literals and in Sub text', () => {
    const findings = check(
      good
        .replace("'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x'", 'arn:aws:iam::123456789012:role/x')
        .replace(':sqs:${AWS::Region}:', ':sqs:eu-west-1:')
        .replace(
          'SERVICE: ec2.amazonaws.com',
          'SERVICE: ec2.amazonaws.com, QUEUE: https://sqs.us-east-2.amazonaws.com/q',
        ),
    );
    expect(findings).toEqual([
      {
        path: 'Resources.Fn.Properties.Role.Fn::Sub',
        message: 'a hard-coded partition: write arn:${AWS::Partition}:',
      },
      {
        path: 'Resources.Fn.Properties.Role.Fn::Sub',
        message: 'a hard-coded account: use ${AWS::AccountId}',
      },
      {
        path: 'Resources.Fn.Properties.Environment.Variables.QUEUE',
        message: 'a hard-coded region: use ${AWS::Region}',
      },
      { path: 'Outputs.Arn.Value.Fn::Sub', message: 'a hard-coded region: use ${AWS::Region}' },
    ]);
  });

  it('reports a literal AMI, another runtime or architecture, and retention not from LogRetentionDays', () => {
    const findings = check(
      good
        .replace('ImageId: !Ref HostAmi', 'ImageId: ami-0123456789abcdef0')
        .replace('Runtime: nodejs24.x', 'Runtime: nodejs20.x')
        .replace('Architectures: [x86_64]', 'Architectures: [arm64]')
        .replace('RetentionInDays: !Ref LogRetentionDays', 'RetentionInDays: 30'),
    );
    expect(findings.map((f) => f.path)).toEqual([
      'Resources.Logs.Properties.RetentionInDays',
      'Resources.Fn.Properties.Runtime',
      'Resources.Fn.Properties.Architectures',
      'Resources.Hosts.Properties.LaunchTemplateData.ImageId',
    ]);
  });

  it('reports a LogRetentionDays parameter with another default or periods CloudWatch refuses', () => {
    const findings = check(
      good.replace('Default: 30, AllowedValues: [7, 30, 90, 365]', 'Default: 14, AllowedValues: [14, 45]'),
    );
    expect(findings.map((f) => f.message)).toEqual([
      'LogRetentionDays defaults to 30',
      expect.stringMatching(/^LogRetentionDays must allow only CloudWatch's periods/),
    ]);
  });
});
