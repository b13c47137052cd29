import { ValidationError } from '../../errors.ts';

// Input checks shared by the AWS adapters: each collects every problem, then throws once.

/** A problem when `value` is not an integer in `[min, max]`, else `undefined`. */
export function integerProblem(name: string, value: unknown, min: number, max: number): string | undefined {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? undefined
    : `${name} must be an integer from ${min} to ${max} (got ${String(value)})`;
}

/** Throws `ValidationError(what, problems)` when any problem was found. */
export function throwIfProblems(what: string, problems: readonly (string | undefined)[]): void {
  const found = problems.filter((p): p is string => p !== undefined);
  if (found.length > 0) throw new ValidationError(what, found);
}
