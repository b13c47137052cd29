// The two helpers every port's input rules are written with.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { integerProblem, throwIfProblems } from '../src/ports/validation.ts';

describe('integerProblem', () => {
  it('passes integers inside the range, bounds included', () => {
    for (const value of [0, 5, 10]) expect(integerProblem('n', value, 0, 10), String(value)).toBeUndefined();
  });

  it('names the field, the range and what it got for anything else', () => {
    expect(integerProblem('waitSeconds', 21, 0, 20)).toBe(
      'waitSeconds must be an integer from 0 to 20 (got 21)',
    );
    for (const value of [-1, 11, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null, undefined, 5n]) {
      expect(integerProblem('n', value, 0, 10), String(value)).toMatch(/^n must be an integer from 0 to 10/);
    }
  });
});

describe('throwIfProblems', () => {
  it('throws one ValidationError carrying every problem found, and nothing when all passed', () => {
    expect(() => throwIfProblems('invalid x', [undefined, undefined])).not.toThrow();

    const error = (() => {
      try {
        throwIfProblems('invalid x', ['first', undefined, 'second']);
      } catch (err) {
        return err;
      }
    })();

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual(['first', 'second']);
    expect((error as ValidationError).message).toBe('invalid x: first; second');
  });
});
