import { expect } from 'vitest';
import { ValidationError } from '../../src/errors.ts';

/**
 * The issues of the `ValidationError` that `fn` throws, or `[]` when it throws nothing; any
 * other error fails the test.
 *
 * @example
 * ```ts
 * expect(issuesOf(() => assertLeases(['']))).toEqual(['#0: lease must be a non-empty string']);
 * ```
 */
export function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  return [];
}
