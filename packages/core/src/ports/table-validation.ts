import type { QueryOptions, TableKey, WriteCondition } from './table.ts';
import { TableLimits } from './table.ts';
import { assertShape, integerProblem, jsonProblem, throwIfProblems } from './validation.ts';

// What every `Table` adapter accepts, by DynamoDB's rules, checked before a backend sees it:
// DynamoDB reports its own as a generic ValidationException, some inputs (a NaN, a class
// instance) would not even marshal, and SQLite would silently store what DynamoDB refuses.

const DEFAULT_QUERY_LIMIT = 100;
const MAX_QUERY_LIMIT = 1000;

/** Query options after `checkTableQuery`, with the defaults filled in. */
export interface CheckedQueryOptions {
  /** `undefined` for no prefix (an empty prefix is none). */
  readonly prefix?: string;
  readonly limit: number;
  readonly cursor?: string;
  readonly reverse: boolean;
}

function keyPartProblem(field: string, value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return `${field} must be a non-empty string`;
  // DynamoDB stores strings as UTF-8; an unpaired surrogate has no UTF-8 form and would come
  // back as U+FFFD, a different key.
  if (!value.isWellFormed()) return `${field} contains an unpaired surrogate`;
  const bytes = Buffer.byteLength(value);
  if (bytes > TableLimits.maxKeyBytes)
    return `${field} is ${bytes} bytes, more than ${TableLimits.maxKeyBytes}`;
  return undefined;
}

function keyProblems(key: TableKey): (string | undefined)[] {
  if (typeof key !== 'object' || key === null) return ['key must be { pk, sk }'];
  return [keyPartProblem('pk', key.pk), keyPartProblem('sk', key.sk)];
}

function versionProblem(condition: { readonly ifVersion: number }): string | undefined {
  // Versions start at 1, so 0 could never match: it is a mistake, not a condition.
  return integerProblem('ifVersion', condition.ifVersion, 1, Number.MAX_SAFE_INTEGER);
}

function conditionProblem(condition: WriteCondition | undefined): string | undefined {
  if (condition === undefined) return undefined;
  if (typeof condition === 'object' && condition !== null) {
    if ('ifAbsent' in condition && !('ifVersion' in condition) && condition.ifAbsent === true)
      return undefined;
    if ('ifVersion' in condition && !('ifAbsent' in condition)) return versionProblem(condition);
  }
  return 'condition must be { ifAbsent: true } or { ifVersion: <integer> }';
}

/** The problems of `data` and, when there are none, its JSON. */
function dataCheck(data: unknown): { problems: string[]; json?: string } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { problems: ['data must be a JSON object'] };
  }
  const problem = jsonProblem(data, 'data');
  if (problem) return { problems: [problem] };
  const json = JSON.stringify(data);
  const bytes = Buffer.byteLength(json);
  if (bytes > TableLimits.maxDataBytes) {
    return { problems: [`data is ${bytes} bytes serialised, more than ${TableLimits.maxDataBytes}`] };
  }
  return { problems: [], json };
}

/**
 * Validates a key: `pk` and `sk` non-empty, valid UTF-8, at most 1024 bytes each.
 *
 * @example
 * ```ts
 * assertTableKey({ pk: 'build#abc', sk: 'state' });
 * ```
 */
export function assertTableKey(key: TableKey): void {
  throwIfProblems('invalid table key', keyProblems(key));
}

/**
 * Validates a `put` (key, data, condition) and answers the data serialised as JSON. Data is a
 * plain JSON object (no NaN, no Date or other class instance, no cycle) of at most
 * `TableLimits.maxDataBytes` serialised; `ifVersion` is an integer from 1.
 *
 * @example
 * ```ts
 * const json = checkTablePut({ pk: 'p', sk: 's' }, { status: 'queued' }, { ifAbsent: true });
 * ```
 */
export function checkTablePut(key: TableKey, data: unknown, condition: WriteCondition | undefined): string {
  const { problems, json } = dataCheck(data);
  throwIfProblems('invalid table write', [...keyProblems(key), ...problems, conditionProblem(condition)]);
  return json as string;
}

/**
 * Validates a `delete`: the key and, when given, `ifVersion` (an integer from 1).
 *
 * @example
 * ```ts
 * checkTableDelete({ pk: 'p', sk: 's' }, { ifVersion: 3 });
 * ```
 */
export function checkTableDelete(key: TableKey, condition: { readonly ifVersion: number } | undefined): void {
  throwIfProblems('invalid table delete', [
    ...keyProblems(key),
    condition === undefined
      ? undefined
      : typeof condition === 'object' && condition !== null
        ? versionProblem(condition)
        : 'condition must be { ifVersion: <integer> }',
  ]);
}

/**
 * Validates a `query`: `pk` and a non-empty `prefix` as key parts, `limit` 1–1000 (default
 * 100), a non-empty cursor. Whether the cursor is one this table made is the adapter's to check.
 *
 * @example
 * ```ts
 * const { prefix, limit, cursor, reverse } = checkTableQuery('build#abc', { prefix: 'step#' });
 * ```
 */
export function checkTableQuery(pk: string, options: QueryOptions): CheckedQueryOptions {
  assertShape('invalid query', 'options', options, 'object');
  const { prefix, limit = DEFAULT_QUERY_LIMIT, cursor, reverse } = options;
  throwIfProblems('invalid query', [
    keyPartProblem('pk', pk),
    prefix === undefined || prefix === '' ? undefined : keyPartProblem('prefix', prefix),
    integerProblem('limit', limit, 1, MAX_QUERY_LIMIT),
    cursor === undefined || (typeof cursor === 'string' && cursor !== '')
      ? undefined
      : 'cursor must be a non-empty string from a previous page',
  ]);
  return {
    ...(prefix ? { prefix } : {}),
    limit,
    ...(cursor === undefined ? {} : { cursor }),
    reverse: reverse === true,
  };
}
