import type { JsonObject } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';

/**
 * A number from an example model's kwargs: `fallback` when absent, else it must lie in
 * `[min, max]` (and be an integer when `integer`), or `ValidationError`.
 *
 * @example
 * ```ts
 * numberKwarg(this.kwargs, 'complexity', 4, { min: 1, max: 6, integer: true });
 * ```
 */
export function numberKwarg(
  kwargs: JsonObject,
  name: string,
  fallback: number,
  range: { readonly min: number; readonly max: number; readonly integer?: boolean },
): number {
  const value = kwargs[name];
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= range.min &&
    value <= range.max &&
    (range.integer !== true || Number.isInteger(value));
  if (!ok) {
    throw new ValidationError(`invalid ${name}`, [
      `${name} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`,
    ]);
  }
  return value;
}
