import type { JsonObject, JsonValue } from '@spotjobs/core';
import { ValidationError } from '@spotjobs/core';

/**
 * `value` as it arrives at the other end of a queue or the Table: serialised to JSON and
 * parsed back, so what a model hands over behaves the same in-process as distributed (tuples
 * become lists, `undefined` becomes `null`, a Date becomes its ISO string, as Fossa's JSON
 * does). A value JSON cannot carry (a cycle, a BigInt) throws `ValidationError`.
 *
 * @example
 * ```ts
 * toWireJson(['a', 27], 'return value'); // ['a', 27]
 * toWireJson(undefined, 'return value'); // null
 * ```
 */
export function toWireJson(value: unknown, what: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError(`${what} is not JSON`, [err instanceof Error ? err.message : String(err)], {
      cause: err,
    });
  }
  // `undefined`, a function or a symbol serialise to nothing: Python's `None` is the closest.
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

/** `toWireJson` for a value that must be a JSON object (kwargs, records); anything else throws `ValidationError`. */
export function toWireObject(value: unknown, what: string): JsonObject {
  const json = toWireJson(value ?? {}, what);
  if (!isJsonObject(json)) throw new ValidationError(`${what} must be a JSON object`);
  return json;
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
