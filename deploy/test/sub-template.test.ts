// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Sub strings in fixtures and findings
import { describe, expect, it } from 'vitest';
import { parseSubString, subArgument } from '../src/sub-template.ts';

describe('parseSubString', () => {
  it('splits variables, attribute variables and escapes', () => {
    expect(parseSubString('arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Queue.Arn}')).toEqual([
      { literal: 'arn:' },
      { variable: 'AWS::Partition' },
      { literal: ':s3:::' },
      { variable: 'Bucket' },
      { literal: '/${Literal}/' },
      { variable: 'Queue.Arn' },
    ]);
  });

  it('keeps text without variables and an unclosed ${ as literal', () => {
    expect(parseSubString('plain')).toEqual([{ literal: 'plain' }]);
    expect(parseSubString('a ${b')).toEqual([{ literal: 'a ${b' }]);
  });
});

describe('subArgument', () => {
  it('reads both forms and refuses others', () => {
    expect(subArgument('x')).toEqual({ text: 'x', variables: {} });
    expect(subArgument(['${A}', { A: 1 }])).toEqual({ text: '${A}', variables: { A: 1 } });
    expect(subArgument([1])).toBeUndefined();
  });
});
