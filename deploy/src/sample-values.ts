// Plausible deploy-time values for template expressions, so a program's real config loader can be
// run on the environment a template passes. Each intrinsic resolves to what CloudFormation would
// produce for the referenced resource's type (a queue's Ref is its URL, a job queue's Ref its ARN …),
// in a fixed sample region and account.
import { parseSubString, subArgument } from './sub-template.ts';
import type { Template, TemplateParameter } from './template-file.ts';
import { getAttTarget, intrinsicOf } from './template-intrinsics.ts';

export const sampleRegion = 'us-east-1';
export const sampleAccount = '123456789012';
const sampleStack = 'spotjobs-sample';

const pseudoSamples: Record<string, string | string[]> = {
  'AWS::AccountId': sampleAccount,
  'AWS::NotificationARNs': [],
  'AWS::NoValue': '',
  'AWS::Partition': 'aws',
  'AWS::Region': sampleRegion,
  'AWS::StackId': `arn:aws:cloudformation:${sampleRegion}:${sampleAccount}:stack/${sampleStack}/0f0e0d0c-0b0a-4908-8706-050403020100`,
  'AWS::StackName': sampleStack,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Samples for the network stack's exports (deploy contract §2). */
const importSamples: Record<string, string> = {
  VpcId: 'vpc-0123456789abcdef0',
  VpcCidr: '10.0.0.0/16',
  PrivateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2,subnet-0ccccccccccccccc3',
  PublicSubnetIds: 'subnet-0ddddddddddddddd4,subnet-0eeeeeeeeeeeeeee5,subnet-0fffffffffffffff6',
  PrivateRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2,rtb-0ccccccccccccccc3',
};

/** Tried in order against a parameter's AllowedPattern when it has neither Default nor AllowedValues. */
const patternCandidates = [
  'spotjobs-sample',
  'sample',
  'Sample1',
  'artifacts/sample.zip',
  `sha256:${'0123456789abcdef'.repeat(4)}`,
  '0123456789abcdef'.repeat(4),
  '1',
  '30',
  'https://example.com/sample',
  'sample@example.com',
  `arn:aws:iam::${sampleAccount}:role/spotjobs-sample`,
  'Sample-Secret-Value-0123456789abcdef',
];

/** Properties that hold a resource's physical name when the template sets it. */
const nameProperties = [
  'QueueName',
  'TableName',
  'BucketName',
  'FunctionName',
  'ClusterName',
  'RoleName',
  'LogGroupName',
  'JobQueueName',
  'JobDefinitionName',
  'ComputeEnvironmentName',
  'TopicName',
  'Family',
  'Name',
];

export type SampleValue = string | string[];

const asText = (value: SampleValue): string => (Array.isArray(value) ? value.join(',') : value);

/**
 * Resolves template expressions to sample values of the shape CloudFormation would produce.
 *
 * @example
 * ```ts
 * const samples = new TemplateSamples(template);
 * samples.text({ Ref: 'JobsQueue' }); // 'https://sqs.us-east-1.amazonaws.com/123456789012/spotjobs-sample-JobsQueue-1A2B3C4D'
 * ```
 */
export class TemplateSamples {
  readonly #template: Template;

  constructor(template: Template) {
    this.#template = template;
  }

  /** The sample as a string (lists comma-joined, as an environment variable would carry them). */
  text(value: unknown, locals: Record<string, unknown> = {}): string {
    return asText(this.value(value, locals));
  }

  value(value: unknown, locals: Record<string, unknown> = {}): SampleValue {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (Array.isArray(value)) return value.map((item) => this.text(item, locals));
    const call = intrinsicOf(value);
    if (call === undefined) return JSON.stringify(value);
    const argument = call.argument;
    const items = Array.isArray(argument) ? argument : [];
    switch (call.name) {
      case 'Ref':
        return typeof argument === 'string' ? this.#ref(argument) : '';
      case 'Fn::GetAtt': {
        const target = getAttTarget(argument);
        return target === undefined ? '' : this.#getAtt(target.resource, target.attribute ?? '');
      }
      case 'Fn::Sub': {
        const sub = subArgument(argument);
        if (sub === undefined) return '';
        return parseSubString(sub.text)
          .map((part) => {
            if ('literal' in part) return part.literal;
            if (part.variable in sub.variables) return this.text(sub.variables[part.variable], locals);
            if (part.variable in locals) return this.text(locals[part.variable], locals);
            const dot = part.variable.indexOf('.');
            return dot > 0
              ? asText(this.#getAtt(part.variable.slice(0, dot), part.variable.slice(dot + 1)))
              : asText(this.#ref(part.variable));
          })
          .join('');
      }
      case 'Fn::Join':
        return this.#list(items[1], locals).join(this.text(items[0], locals));
      case 'Fn::Split':
        return this.text(items[1], locals).split(this.text(items[0], locals));
      case 'Fn::Select':
        return this.#list(items[1], locals)[Number(this.text(items[0], locals))] ?? '';
      case 'Fn::If':
        return this.value(items[1], locals);
      case 'Fn::Base64':
        return this.value(argument, locals);
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${sampleRegion}${zone}`);
      case 'Fn::Cidr':
        return ['10.0.0.0/20', '10.0.16.0/20', '10.0.32.0/20'];
      case 'Fn::ImportValue': {
        const name = this.text(argument, locals);
        const output = name.slice(name.lastIndexOf('-') + 1);
        return importSamples[output] ?? 'imported-sample';
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = items.map((item) => this.text(item, locals));
        const mapping = this.#template.Mappings?.[map ?? ''];
        const row = mapping?.[top ?? ''] ?? Object.values(mapping ?? {})[0];
        return this.value(row?.[second ?? ''], locals);
      }
      default:
        return `sample-${call.name}`;
    }
  }

  #list(value: unknown, locals: Record<string, unknown>): string[] {
    const sample = this.value(value, locals);
    return Array.isArray(sample) ? sample : [sample];
  }

  #ref(name: string): SampleValue {
    const pseudo = pseudoSamples[name];
    if (pseudo !== undefined) return pseudo;
    const parameter = this.#template.Parameters?.[name];
    if (parameter !== undefined) return parameterSample(parameter);
    const resource = this.#template.Resources[name];
    if (resource === undefined) return `unresolved-${name}`;
    const physical = this.#physicalName(name);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${sampleRegion}.amazonaws.com/${sampleAccount}/${physical}`;
      case 'AWS::SNS::Topic':
      case 'AWS::Batch::JobQueue':
      case 'AWS::Batch::JobDefinition':
      case 'AWS::Batch::ComputeEnvironment':
      case 'AWS::SecretsManager::Secret':
      case 'AWS::ECS::TaskDefinition':
      case 'AWS::ECS::Service':
        return this.#arn(name);
      default:
        return physical;
    }
  }

  #getAtt(name: string, attribute: string): SampleValue {
    const physical = this.#physicalName(name);
    switch (attribute) {
      case 'Arn':
        return this.#arn(name);
      case 'QueueUrl':
        return `https://sqs.${sampleRegion}.amazonaws.com/${sampleAccount}/${physical}`;
      case 'QueueName':
      case 'Name':
        return physical;
      case 'DomainName':
        return `${physical}.s3.amazonaws.com`;
      case 'RegionalDomainName':
        return `${physical}.s3.${sampleRegion}.amazonaws.com`;
      case 'GroupId':
        return 'sg-0123456789abcdef0';
      default:
        return `${physical}-${attribute}`;
    }
  }

  #physicalName(name: string): string {
    const resource = this.#template.Resources[name];
    const properties = resource?.Properties ?? {};
    for (const key of nameProperties) if (properties[key] !== undefined) return this.text(properties[key]);
    // Generated names: buckets are lower case, the rest keep the logical id.
    if (resource?.Type === 'AWS::S3::Bucket') return `${sampleStack}-${name.toLowerCase()}-1a2b3c4d5e6f`;
    return `${sampleStack}-${name}-1A2B3C4D5E6F`;
  }

  #arn(name: string): string {
    const type = this.#template.Resources[name]?.Type ?? 'AWS::Unknown::Thing';
    const physical = this.#physicalName(name);
    const [, service = 'unknown', kind = 'thing'] = type.split('::');
    const regional = `arn:aws:${service.toLowerCase()}:${sampleRegion}:${sampleAccount}`;
    switch (type) {
      case 'AWS::SQS::Queue':
      case 'AWS::SNS::Topic':
        return `${regional}:${physical}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${physical}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${sampleAccount}:role/${physical}`;
      case 'AWS::IAM::InstanceProfile':
        return `arn:aws:iam::${sampleAccount}:instance-profile/${physical}`;
      case 'AWS::DynamoDB::Table':
        return `${regional}:table/${physical}`;
      case 'AWS::Lambda::Function':
        return `${regional}:function:${physical}`;
      case 'AWS::Logs::LogGroup':
        return `${regional}:log-group:${physical}:*`;
      case 'AWS::Batch::JobQueue':
        return `${regional}:job-queue/${physical}`;
      case 'AWS::Batch::JobDefinition':
        return `${regional}:job-definition/${physical}:1`;
      case 'AWS::Batch::ComputeEnvironment':
        return `${regional}:compute-environment/${physical}`;
      case 'AWS::ECS::TaskDefinition':
        return `${regional}:task-definition/${physical}:1`;
      case 'AWS::ECS::Service':
        return `${regional}:service/${sampleStack}/${physical}`;
      case 'AWS::SecretsManager::Secret':
        return `${regional}:secret:${physical}-AbCdEf`;
      default:
        return `${regional}:${kind.toLowerCase()}/${physical}`;
    }
  }
}

/** A parameter's Default, else its first allowed value, else a sample its AllowedPattern accepts. */
export function parameterSample(parameter: TemplateParameter): SampleValue {
  const isList = parameter.Type === 'CommaDelimitedList' || parameter.Type.startsWith('List<');
  const chosen = parameter.Default ?? parameter.AllowedValues?.[0];
  if (chosen !== undefined) {
    const text = String(chosen);
    return isList ? text.split(',') : text;
  }
  if (parameter.Type === 'Number') return String(parameter.MinValue ?? 1);
  const pattern =
    typeof parameter.AllowedPattern === 'string' ? new RegExp(parameter.AllowedPattern) : undefined;
  const sample = patternCandidates.find((candidate) => pattern?.test(candidate) ?? true) ?? 'sample';
  return isList ? [sample, sample] : sample;
}
