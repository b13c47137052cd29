// Recognising CloudFormation intrinsic functions in a parsed (long-form) template and walking every
// value with its path, so each check visits the template the same way.

/** Pseudo parameters CloudFormation defines in every stack (`!Ref AWS::Region` …). */
export const pseudoParameters: ReadonlySet<string> = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

/** An intrinsic call: `{ Ref: x }`, `{ 'Fn::Sub': … }`, `{ Condition: name }` as one-key objects. */
export interface Intrinsic {
  /** `Ref`, `Condition` or the `Fn::` name, e.g. `Fn::GetAtt`. */
  readonly name: string;
  readonly argument: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The intrinsic function `value` calls, if it is one.
 *
 * @example
 * ```ts
 * intrinsicOf({ 'Fn::GetAtt': ['Queue', 'Arn'] }); // { name: 'Fn::GetAtt', argument: ['Queue', 'Arn'] }
 * intrinsicOf({ QueueName: 'x' }); // undefined
 * ```
 */
export function intrinsicOf(value: unknown): Intrinsic | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const name = keys[0] as string;
  if (name === 'Ref' || name.startsWith('Fn::')) return { name, argument: value[name] };
  return undefined;
}

/**
 * The `[resource, attribute]` of a `Fn::GetAtt` argument (list or `Resource.Attribute` string form);
 * the attribute is undefined when it is itself computed.
 *
 * @example
 * ```ts
 * getAttTarget(['Queue', 'Arn']); // { resource: 'Queue', attribute: 'Arn' }
 * ```
 */
export function getAttTarget(
  argument: unknown,
): { resource: string; attribute: string | undefined } | undefined {
  if (typeof argument === 'string') {
    const dot = argument.indexOf('.');
    return dot < 0
      ? { resource: argument, attribute: undefined }
      : { resource: argument.slice(0, dot), attribute: argument.slice(dot + 1) };
  }
  if (!Array.isArray(argument) || typeof argument[0] !== 'string') return undefined;
  return { resource: argument[0], attribute: typeof argument[1] === 'string' ? argument[1] : undefined };
}

export type TemplatePath = readonly (string | number)[];

/**
 * Calls `visit` on `value` and every value nested in it (depth first), with the path from `path`.
 *
 * @example
 * ```ts
 * walkValues(template.Resources, ['Resources'], (value, path) => {
 *   if (intrinsicOf(value)?.name === 'Ref') console.log(path);
 * });
 * ```
 */
export function walkValues(
  value: unknown,
  path: TemplatePath,
  visit: (value: unknown, path: TemplatePath) => void,
): void {
  visit(value, path);
  if (Array.isArray(value)) for (const [i, item] of value.entries()) walkValues(item, [...path, i], visit);
  else if (isRecord(value))
    for (const [key, item] of Object.entries(value)) walkValues(item, [...path, key], visit);
}

/**
 * The mapping items of a list, an `!If [condition, item, other]` item standing for its mapping
 * branches (either may be deployed; `!Ref AWS::NoValue` drops out).
 *
 * @example
 * ```ts
 * listedMappings([{ Name: 'A' }, { 'Fn::If': ['C', { Name: 'B' }, { Ref: 'AWS::NoValue' }] }]);
 * // [{ Name: 'A' }, { Name: 'B' }]
 * ```
 */
export function listedMappings(list: unknown): Record<string, unknown>[] {
  return (Array.isArray(list) ? list : []).flatMap((item) => {
    const call = intrinsicOf(item);
    const branches =
      call?.name === 'Fn::If' && Array.isArray(call.argument) ? call.argument.slice(1) : [item];
    return branches.filter(isRecord).filter((branch) => intrinsicOf(branch) === undefined);
  });
}
