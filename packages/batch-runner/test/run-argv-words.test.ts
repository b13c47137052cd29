import { ValidationError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { fillPlaceholders, parseArgvWords } from '../src/run/argv-words.ts';

describe('APP_PARAMS words', () => {
  it('splits plain text on runs of whitespace, with no shell meaning for any character', () => {
    expect(parseArgvWords('  -n 4\t--fast \n x')).toEqual({ words: ['-n', '4', '--fast', 'x'] });
    expect(parseArgvWords('$(rm -rf /) `id` "a b" *.txt ; |')).toEqual({
      words: ['$(rm', '-rf', '/)', '`id`', '"a', 'b"', '*.txt', ';', '|'],
    });
  });

  it('takes a JSON array of strings as is, spaces and quotes included', () => {
    expect(parseArgvWords('["--title", "a b", "it\'s", ""]')).toEqual({
      words: ['--title', 'a b', "it's", ''],
    });
  });

  it('gives no words for unset or blank values', () => {
    expect(parseArgvWords(undefined)).toEqual({ words: [] });
    expect(parseArgvWords('   ')).toEqual({ words: [] });
  });

  it('refuses a malformed JSON array, non-string elements and NUL characters', () => {
    expect(parseArgvWords('["a", ')).toMatchObject({ problem: expect.stringContaining('not a JSON array') });
    expect(parseArgvWords('["a", 1]')).toEqual({ problem: 'element 1 is not a string' });
    expect(parseArgvWords('[{"a": 1}]')).toEqual({ problem: 'element 0 is not a string' });
    expect(parseArgvWords('a\0b')).toEqual({ problem: 'contains a NUL character' });
  });
});

describe('placeholders', () => {
  it('fills {input}, {input_dir}, {output} and {hostfile} inside words', () => {
    expect(
      fillPlaceholders(
        ['{input}', '--in={input_dir}/x', '-o', '{output}', '--hostfile', '{hostfile}', '{other}'],
        {
          input: '/w/in/a.dat',
          inputDir: '/w/in',
          output: '/w/out',
          hostfile: '/w/hostfile',
        },
      ),
    ).toEqual(['/w/in/a.dat', '--in=/w/in/x', '-o', '/w/out', '--hostfile', '/w/hostfile', '{other}']);
  });

  it('refuses a placeholder the run has no value for', () => {
    expect(() => fillPlaceholders(['{hostfile}'], { output: '/w/out' })).toThrow(ValidationError);
  });
});
