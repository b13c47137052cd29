// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the messages quote CloudFormation Sub placeholders
// The deploy contract's conventions that are not about references, outputs, IAM or environments:
// no hard-coded partition, region or account (§9); AMIs from an SSM-resolved image parameter (§9);
// Lambda on nodejs24.x / x86_64 (§7); log retention from the LogRetentionDays parameter (§5).
import type { Template } from './template-file.ts';
import { type Finding, findingPath } from './template-finding.ts';
import { intrinsicOf, isRecord, type TemplatePath, walkValues } from './template-intrinsics.ts';

/** The retention periods CloudWatch Logs accepts (days). */
export const cloudWatchRetentionDays: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const imageParameterTypes = new Set([
  'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
  'AWS::EC2::Image::Id',
]);

const hardCoded: readonly { pattern: RegExp; message: string }[] = [
  { pattern: /\barn:aws(-[a-z]+)?:/, message: 'a hard-coded partition: write arn:${AWS::Partition}:' },
  {
    pattern: /\b(us|eu|ap|sa|ca|me|af|il|mx)-(gov-)?(north|south|east|west|central)(east|west)?-\d\b/,
    message: 'a hard-coded region: use ${AWS::Region}',
  },
  {
    pattern: /\barn:[^:\s]*:[^:\s]*:[^:\s]*:\d{12}:/,
    message: 'a hard-coded account: use ${AWS::AccountId}',
  },
];

/**
 * Checks portability (§9), AMI parameters (§9), Lambda runtime (§7) and log retention (§5).
 *
 * @example
 * ```ts
 * checkConventions(parseTemplate("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: { TopicName: 'arn:aws:x' }\n"));
 * // [{ path: 'Resources.T.Properties.TopicName', message: 'a hard-coded partition: write arn:${AWS::Partition}:' }]
 * ```
 */
export function checkConventions(template: Template): Finding[] {
  const findings: Finding[] = [];
  const report = (path: TemplatePath, message: string) => findings.push({ path: findingPath(path), message });
  const parameters = template.Parameters ?? {};

  // Every string, Sub text included: a `${AWS::Region}` placeholder matches none of the patterns.
  const scan = (value: unknown, path: TemplatePath) => {
    if (typeof value !== 'string') return;
    for (const { pattern, message } of hardCoded) if (pattern.test(value)) report(path, message);
  };
  for (const [name, resource] of Object.entries(template.Resources))
    walkValues(resource.Properties, ['Resources', name, 'Properties'], scan);
  for (const [name, output] of Object.entries(template.Outputs ?? {}))
    walkValues(output.Value, ['Outputs', name, 'Value'], scan);

  const isImageParameter = (value: unknown) => {
    const call = intrinsicOf(value);
    return call?.name === 'Ref' && imageParameterTypes.has(parameters[String(call.argument)]?.Type ?? '');
  };
  for (const [name, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties ?? {};
    const path = ['Resources', name, 'Properties'];
    switch (resource.Type) {
      case 'AWS::EC2::LaunchTemplate': {
        const data = isRecord(properties.LaunchTemplateData) ? properties.LaunchTemplateData : {};
        if (data.ImageId !== undefined && !isImageParameter(data.ImageId))
          report(
            [...path, 'LaunchTemplateData', 'ImageId'],
            'the AMI must be !Ref to an AWS::SSM::Parameter::Value<AWS::EC2::Image::Id> parameter',
          );
        break;
      }
      case 'AWS::EC2::Instance':
        if (properties.ImageId !== undefined && !isImageParameter(properties.ImageId))
          report(
            [...path, 'ImageId'],
            'the AMI must be !Ref to an AWS::SSM::Parameter::Value<AWS::EC2::Image::Id> parameter',
          );
        break;
      case 'AWS::Lambda::Function': {
        if (properties.Runtime !== 'nodejs24.x')
          report([...path, 'Runtime'], 'Lambda functions run nodejs24.x');
        const architectures = properties.Architectures;
        if (!Array.isArray(architectures) || architectures.length !== 1 || architectures[0] !== 'x86_64')
          report(
            [...path, 'Architectures'],
            'Lambda functions run on [x86_64] (the bundles are built for it)',
          );
        break;
      }
      case 'AWS::Logs::LogGroup': {
        const retention = intrinsicOf(properties.RetentionInDays);
        if (
          properties.RetentionInDays !== undefined &&
          (retention?.name !== 'Ref' || retention.argument !== 'LogRetentionDays')
        )
          report([...path, 'RetentionInDays'], 'retention comes from the LogRetentionDays parameter');
        break;
      }
    }
  }

  const retention = parameters.LogRetentionDays;
  if (retention !== undefined) {
    const allowed = (retention.AllowedValues ?? []).map(Number);
    if (Number(retention.Default) !== 30)
      report(['Parameters', 'LogRetentionDays'], 'LogRetentionDays defaults to 30');
    if (allowed.length === 0 || allowed.some((days) => !cloudWatchRetentionDays.includes(days)))
      report(
        ['Parameters', 'LogRetentionDays'],
        `LogRetentionDays must allow only CloudWatch's periods (${cloudWatchRetentionDays.join(', ')})`,
      );
  }
  return findings;
}
