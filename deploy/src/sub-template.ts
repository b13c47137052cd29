// `Fn::Sub` strings: `${Name}` and `${Resource.Attribute}` variables, `${!Literal}` escapes. Shared by
// the reference check (does every variable resolve?) and the environment check (substitute samples).
import { isRecord } from './template-intrinsics.ts';

export type SubPart = { readonly literal: string } | { readonly variable: string };

/**
 * Splits a `Fn::Sub` string into literal text and variable names; `${!X}` becomes the literal `${X}`.
 *
 * @example
 * ```ts
 * parseSubString('arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}');
 * // [{ literal: 'arn:' }, { variable: 'AWS::Partition' }, { literal: ':s3:::' }, { variable: 'Bucket' }, { literal: '/${Literal}' }]
 * ```
 */
export function parseSubString(text: string): SubPart[] {
  const parts: SubPart[] = [];
  let literal = '';
  let at = 0;
  for (;;) {
    const start = text.indexOf('${', at);
    const end = start < 0 ? -1 : text.indexOf('}', start);
    if (start < 0 || end < 0) break;
    literal += text.slice(at, start);
    const inner = text.slice(start + 2, end);
    if (inner.startsWith('!')) literal += `\${${inner.slice(1)}}`;
    else {
      if (literal !== '') parts.push({ literal });
      literal = '';
      parts.push({ variable: inner.trim() });
    }
    at = end + 1;
  }
  literal += text.slice(at);
  if (literal !== '') parts.push({ literal });
  return parts;
}

/**
 * The string and the local variables of a `Fn::Sub` argument (`'text'` or `['text', { Var: value }]`).
 *
 * @example
 * ```ts
 * subArgument(['${Host}:80', { Host: { Ref: 'Name' } }]); // { text: '${Host}:80', variables: { Host: { Ref: 'Name' } } }
 * ```
 */
export function subArgument(
  argument: unknown,
): { text: string; variables: Record<string, unknown> } | undefined {
  if (typeof argument === 'string') return { text: argument, variables: {} };
  if (
    Array.isArray(argument) &&
    typeof argument[0] === 'string' &&
    (argument.length === 1 || isRecord(argument[1]))
  )
    return { text: argument[0], variables: (argument[1] as Record<string, unknown> | undefined) ?? {} };
  return undefined;
}
