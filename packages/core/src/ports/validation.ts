import { ValidationError } from '../errors.ts';

// The two helpers every port's input rules are written with: each rule answers a problem (a
// sentence) or `undefined`, and a call collects them all and throws once, so a caller sees
// every mistake of a batch at the same time.

/**
 * A problem when `value` is not an integer in `[min, max]`, else `undefined`.
 *
 * @example
 * ```ts
 * integerProblem('waitSeconds', 21, 0, 20); // 'waitSeconds must be an integer from 0 to 20 (got 21)'
 * ```
 */
export function integerProblem(name: string, value: unknown, min: number, max: number): string | undefined {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : `${name} must be an integer from ${min} to ${max} (got ${String(value)})`;
}

/**
 * Throws `ValidationError(what, problems)` when any problem was found; `undefined` entries are
 * rules that passed.
 *
 * @example
 * ```ts
 * throwIfProblems('invalid receive options', [integerProblem('maxMessages', n, 1, 10)]);
 * ```
 */
export function throwIfProblems(what: string, problems: readonly (string | undefined)[]): void {
  const found = problems.filter((p): p is string => p !== undefined);
  if (found.length > 0) throw new ValidationError(what, found);
}

/**
 * Throws `ValidationError(what)` unless `value` is a non-null object (an array when `kind` is
 * `'array'`), so the rules after it can read its fields.
 *
 * @example
 * ```ts
 * assertShape('invalid receive options', 'options', options, 'object');
 * ```
 */
export function assertShape(what: string, name: string, value: unknown, kind: 'object' | 'array'): void {
  const ok = kind === 'array' ? Array.isArray(value) : typeof value === 'object' && value !== null;
  if (!ok) throw new ValidationError(what, [`${name} must be an ${kind}`]);
}
