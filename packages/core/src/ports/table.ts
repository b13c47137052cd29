/**
 * `Table`: versioned JSON items under a (partition, sort) key, with conditional writes
 * (DynamoDB semantics). Claims (`ClaimStore`) and every "exactly one" guarantee in
 * spotjobs are built on it.
 *
 * Semantics every adapter honours (checked by `tableConformance`):
 * - Each item has a `version`: 1 when created, +1 on every write. Writes are atomic.
 * - `put(..., { ifAbsent: true })` fails with `ConditionFailedError` when the item exists;
 *   `put(..., { ifVersion: n })` fails unless the stored version is exactly `n` (a missing
 *   item fails too). Unconditional `put` creates or overwrites.
 * - `get` of a missing key answers `undefined`; `delete` of a missing key succeeds unless
 *   `ifVersion` is given.
 * - `query(pk)` returns that partition's items in ascending sort-key order (descending with
 *   `reverse`), optionally only those whose sort key starts with `prefix`, at most `limit`
 *   per page with a `cursor` while more remain.
 * - Keys are non-empty strings of valid UTF-8 (no unpaired surrogate) of at most 1024 bytes;
 *   `data` is a plain JSON object (no NaN, Date or class instance) of at most 350 KB serialised
 *   (DynamoDB's item limit, with room for the key and version); `ifVersion` is an integer
 *   from 1. Checked by `table-validation.ts` before any write.
 *
 * @example
 * ```ts
 * const created = await table.put({ pk: 'build#abc', sk: 'state' }, { status: 'queued' }, { ifAbsent: true });
 * await table.put(created, { status: 'building' }, { ifVersion: created.version });
 * ```
 */
export interface Table {
  get<T extends JsonObject = JsonObject>(
    key: TableKey,
    signal?: AbortSignal,
  ): Promise<TableItem<T> | undefined>;
  put<T extends JsonObject>(
    key: TableKey,
    data: T,
    condition?: WriteCondition,
    signal?: AbortSignal,
  ): Promise<TableItem<T>>;
  delete(key: TableKey, condition?: { readonly ifVersion: number }, signal?: AbortSignal): Promise<void>;
  query<T extends JsonObject = JsonObject>(
    pk: string,
    options?: QueryOptions,
    signal?: AbortSignal,
  ): Promise<TablePage<T>>;
}

export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

export interface TableItem<T extends JsonObject = JsonObject> extends TableKey {
  readonly version: number;
  readonly data: T;
}

export type WriteCondition = { readonly ifAbsent: true } | { readonly ifVersion: number };

export interface QueryOptions {
  readonly prefix?: string;
  /** Page size, 1–1000 (default 100). */
  readonly limit?: number;
  readonly cursor?: string;
  readonly reverse?: boolean;
}

export interface TablePage<T extends JsonObject = JsonObject> {
  readonly items: TableItem<T>[];
  readonly cursor?: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const TableLimits = { maxKeyBytes: 1024, maxDataBytes: 350_000 } as const;
