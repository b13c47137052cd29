import { ValidationError } from '../errors.ts';

// The helpers every port's input rules are written with: each rule answers a problem (a
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

/**
 * The first way `value` is not JSON (NaN or Infinity, a Date or other class instance, a
 * function, a cycle), or `undefined`. Plain and null-prototype objects pass (both serialise
 * and both marshal to a DynamoDB map); an `undefined` property passes (JSON.stringify drops
 * it), an `undefined` array element does not (it would turn into `null`). `path` names the
 * value in the problem; `ancestors` is the recursion's own cycle guard.
 *
 * @example
 * ```ts
 * jsonProblem({ at: new Date() }, 'state'); // 'state.at is not a JSON value'
 * jsonProblem({ step: 3, done: [1, 2] }, 'state'); // undefined
 * ```
 */
export function jsonProblem(
  value: unknown,
  path: string,
  ancestors: Set<object> = new Set(),
): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} is not a finite number`;
  if (typeof value !== 'object') return `${path} is not a JSON value`;
  if (ancestors.has(value)) return `${path} refers to itself`;
  const isArray = Array.isArray(value);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!isArray && prototype !== Object.prototype && prototype !== null) return `${path} is not a JSON value`;
  ancestors.add(value);
  try {
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined && !isArray) continue; // dropped, as JSON.stringify drops it
      const problem = jsonProblem(element, isArray ? `${path}[${name}]` : `${path}.${name}`, ancestors);
      if (problem) return problem;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}
