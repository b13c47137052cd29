import { ConditionFailedError, throwIfAborted, ValidationError } from '../../errors.ts';
import type {
  JsonObject,
  QueryOptions,
  Table,
  TableItem,
  TableKey,
  TablePage,
  WriteCondition,
} from '../../ports/table.ts';
import {
  assertTableKey,
  checkTableDelete,
  checkTablePut,
  checkTableQuery,
} from '../../ports/table-validation.ts';
import { decodeCursor, encodeCursor, endBefore, prefixRange, startAfter } from './byte-range.ts';
import type { LocalContext } from './local-context.ts';

// Each write is one SQL statement, so it is atomic across processes on its own: the version
// check and the write happen under the same lock.
const SQL = {
  get: 'SELECT version, data FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?',
  upsert: `INSERT INTO table_items (tbl, pk, sk, version, data) VALUES (?, ?, ?, 1, ?)
           ON CONFLICT (tbl, pk, sk) DO UPDATE SET version = version + 1, data = excluded.data
           RETURNING version`,
  insertIfAbsent: `INSERT INTO table_items (tbl, pk, sk, version, data) VALUES (?, ?, ?, 1, ?)
                   ON CONFLICT (tbl, pk, sk) DO NOTHING RETURNING version`,
  updateIfVersion: `UPDATE table_items SET version = version + 1, data = ?
                    WHERE tbl = ? AND pk = ? AND sk = ? AND version = ? RETURNING version`,
  delete: 'DELETE FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?',
  deleteIfVersion: 'DELETE FROM table_items WHERE tbl = ? AND pk = ? AND sk = ? AND version = ?',
  // One statement per direction and bound; `lo` is inclusive, `hi` exclusive.
  queryAsc: `SELECT sk, version, data FROM table_items WHERE tbl = ? AND pk = ? AND sk >= ?
             ORDER BY sk ASC LIMIT ?`,
  queryAscBounded: `SELECT sk, version, data FROM table_items WHERE tbl = ? AND pk = ? AND sk >= ? AND sk < ?
                    ORDER BY sk ASC LIMIT ?`,
  queryDesc: `SELECT sk, version, data FROM table_items WHERE tbl = ? AND pk = ? AND sk >= ?
              ORDER BY sk DESC LIMIT ?`,
  queryDescBounded: `SELECT sk, version, data FROM table_items WHERE tbl = ? AND pk = ? AND sk >= ? AND sk < ?
                     ORDER BY sk DESC LIMIT ?`,
} as const;

/**
 * `Table` on the local SQLite database: versioned JSON items, conditional writes, pages in
 * UTF-8 byte order of the sort key (DynamoDB's order). Obtain one from `LocalStore.table`.
 *
 * @example
 * ```ts
 * const builds = store.table('builds');
 * const item = await builds.put({ pk: 'build#abc', sk: 'state' }, { status: 'queued' }, { ifAbsent: true });
 * await builds.put(item, { status: 'building' }, { ifVersion: item.version });
 * ```
 */
export class LocalTable implements Table {
  readonly name: string;
  readonly #context: LocalContext;

  constructor(context: LocalContext, name: string) {
    // DynamoDB's table-name rule, so a name that works here works there.
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(name)) {
      throw new ValidationError(`invalid table name ${JSON.stringify(name)}`, [
        'a table name is 3 to 255 letters, digits, _ - or .',
      ]);
    }
    this.name = name;
    this.#context = context;
  }

  async get<T extends JsonObject = JsonObject>(
    key: TableKey,
    signal?: AbortSignal,
  ): Promise<TableItem<T> | undefined> {
    assertTableKey(key);
    const sk = Buffer.from(key.sk, 'utf8');
    throwIfAborted(signal);
    const row = this.#context.run(
      `get from ${this.name}`,
      (db) =>
        db.statement(SQL.get).get(this.name, key.pk, sk) as { version: number; data: string } | undefined,
    );
    if (!row) return undefined;
    return { pk: key.pk, sk: key.sk, version: row.version, data: JSON.parse(row.data) as T };
  }

  async put<T extends JsonObject>(
    key: TableKey,
    data: T,
    condition?: WriteCondition,
    signal?: AbortSignal,
  ): Promise<TableItem<T>> {
    const json = checkTablePut(key, data, condition);
    const sk = Buffer.from(key.sk, 'utf8');
    throwIfAborted(signal);
    const row = this.#context.run(`put to ${this.name}`, (db) => {
      if (condition && 'ifAbsent' in condition) {
        return db.statement(SQL.insertIfAbsent).get(this.name, key.pk, sk, json);
      }
      if (condition && 'ifVersion' in condition) {
        return db.statement(SQL.updateIfVersion).get(json, this.name, key.pk, sk, condition.ifVersion);
      }
      return db.statement(SQL.upsert).get(this.name, key.pk, sk, json);
    }) as { version: number } | undefined;
    if (!row) throw new ConditionFailedError(describeKey(this.name, key));
    // A copy, so the caller mutating `data` later does not change what we answered.
    return { pk: key.pk, sk: key.sk, version: row.version, data: JSON.parse(json) as T };
  }

  async delete(
    key: TableKey,
    condition?: { readonly ifVersion: number },
    signal?: AbortSignal,
  ): Promise<void> {
    checkTableDelete(key, condition);
    const sk = Buffer.from(key.sk, 'utf8');
    throwIfAborted(signal);
    const result = this.#context.run(`delete from ${this.name}`, (db) =>
      condition
        ? db.statement(SQL.deleteIfVersion).run(this.name, key.pk, sk, condition.ifVersion)
        : db.statement(SQL.delete).run(this.name, key.pk, sk),
    );
    if (condition && Number(result.changes) === 0)
      throw new ConditionFailedError(describeKey(this.name, key));
  }

  async query<T extends JsonObject = JsonObject>(
    pk: string,
    options: QueryOptions = {},
    signal?: AbortSignal,
  ): Promise<TablePage<T>> {
    const { prefix, limit, cursor, reverse } = checkTableQuery(pk, options);
    let range = prefixRange(prefix);
    if (cursor !== undefined) {
      const after = decodeCursor(cursor);
      range = reverse ? endBefore(range, after) : startAfter(range, after);
    }
    throwIfAborted(signal);
    const rows = this.#context.run(`query ${this.name}`, (db) => {
      const sql = reverse
        ? range.hi
          ? SQL.queryDescBounded
          : SQL.queryDesc
        : range.hi
          ? SQL.queryAscBounded
          : SQL.queryAsc;
      const params = range.hi
        ? [this.name, pk, range.lo, range.hi, limit + 1]
        : [this.name, pk, range.lo, limit + 1];
      return db.statement(sql).all(...params) as unknown as {
        sk: Uint8Array;
        version: number;
        data: string;
      }[];
    });
    const page = rows.slice(0, limit);
    const items = page.map((row) => ({
      pk,
      sk: Buffer.from(row.sk).toString('utf8'),
      version: row.version,
      data: JSON.parse(row.data) as T,
    }));
    const last = page.at(-1);
    return rows.length > limit && last ? { items, cursor: encodeCursor(last.sk) } : { items };
  }
}

function describeKey(table: string, key: TableKey): string {
  return `${table}[${key.pk}|${key.sk}]`;
}
