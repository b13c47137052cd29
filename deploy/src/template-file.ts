// CloudFormation templates as plain objects: YAML with the short-form intrinsic tags (`!Ref`,
// `!Sub`, `!GetAtt` …) parsed into the long form CloudFormation itself uses (`{ Ref }`,
// `{ 'Fn::Sub' }`, `{ 'Fn::GetAtt': [resource, attribute] }`), so every check reads one shape.
import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';

/** A template after parsing: the sections every check reads, the rest kept as it came. */
export interface Template {
  readonly AWSTemplateFormatVersion?: string;
  readonly Description?: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Parameters?: Record<string, TemplateParameter>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, TemplateOutput>;
}

export interface TemplateParameter {
  readonly Type: string;
  readonly Description?: string;
  readonly Default?: unknown;
  readonly AllowedValues?: readonly unknown[];
  readonly AllowedPattern?: string;
  readonly [key: string]: unknown;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
  readonly [key: string]: unknown;
}

export interface TemplateOutput {
  readonly Value: unknown;
  readonly Description?: string;
  readonly Export?: { readonly Name: unknown };
  readonly Condition?: string;
}

/** Short-form tags whose long form is `Fn::<Name>`. */
const functionTags = [
  'And',
  'Base64',
  'Cidr',
  'Equals',
  'FindInMap',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'ToJsonString',
  'Length',
] as const;

function longForm(tag: string, key: string, toValue: (value: unknown) => unknown = (v) => v): Tags {
  // One tag per node kind: `!Sub 'x'`, `!Sub [x, {…}]`, `!Base64 { … }` all occur.
  return (['scalar', 'seq', 'map'] as const).map((kind) => ({
    tag: `!${tag}`,
    ...(kind === 'scalar' ? {} : { collection: kind }),
    identify: () => false,
    resolve: (value: unknown) => {
      const plain = kind === 'scalar' ? value : (value as { toJSON(): unknown }).toJSON();
      return { [key]: toValue(plain) };
    },
  })) as Tags;
}

const cloudFormationTags: Tags = [
  ...longForm('Ref', 'Ref'),
  ...longForm('Condition', 'Condition'),
  // `!GetAtt Resource.Attribute` (the attribute may itself hold dots) or `!GetAtt [Resource, Attribute]`.
  ...longForm('GetAtt', 'Fn::GetAtt', (value) => {
    if (typeof value !== 'string') return value;
    const dot = value.indexOf('.');
    return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
  }),
  ...functionTags.flatMap((name) => longForm(name, `Fn::${name}`)),
];

/**
 * Parses CloudFormation YAML text (short-form tags included) into the long form.
 *
 * @example
 * ```ts
 * parseTemplate('Resources:\n  Q:\n    Type: AWS::SQS::Queue\nOutputs:\n  U:\n    Value: !Ref Q\n');
 * // { Resources: { Q: { Type: 'AWS::SQS::Queue' } }, Outputs: { U: { Value: { Ref: 'Q' } } } }
 * ```
 */
export function parseTemplate(text: string): Template {
  const template = parse(text, { customTags: cloudFormationTags, uniqueKeys: true, strict: true }) as unknown;
  if (typeof template !== 'object' || template === null || !('Resources' in template))
    throw new Error('not a CloudFormation template: no Resources section');
  return template as Template;
}

/**
 * Reads and parses one template file.
 *
 * @example
 * ```ts
 * const template = loadTemplate(new URL('../templates/network.yaml', import.meta.url));
 * ```
 */
export function loadTemplate(file: string | URL): Template {
  return parseTemplate(readFileSync(file, 'utf8'));
}
