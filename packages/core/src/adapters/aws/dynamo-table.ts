import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { throwIfAborted } from '../../errors.ts';
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
import { throwIfProblems } from '../../ports/validation.ts';
import { decodeCursor, encodeCursor } from './dynamo-cursor.ts';
import { translateAwsError } from './translate-aws-error.ts';

export interface DynamoTableOptions {
  /** Your client; against emulators set `endpoint`. */
  readonly client: DynamoDBClient;
  /** A table with string key attributes `pk` (hash) and `sk` (range); see `ensureDynamoTable`. */
  readonly tableName: string;
}

// Attribute names go through placeholders: `data` is a DynamoDB reserved word.
const NAMES = { '#data': 'data', '#version': 'version' } as const;

interface StoredItem {
  readonly pk: string;
  readonly sk: string;
  readonly version: number;
  readonly data: JsonObject;
}

function toItem<T extends JsonObject>(stored: Record<string, unknown>): TableItem<T> {
  const item = stored as unknown as StoredItem;
  return { pk: item.pk, sk: item.sk, version: Number(item.version), data: (item.data ?? {}) as T };
}

/**
 * `Table` on Amazon DynamoDB. Items are `{ pk, sk, version, data }`; every write is one
 * `UpdateItem` that sets `data` and bumps `version` under the write's condition
 * (`attribute_not_exists(pk)` or `version = :v`), so "exactly one winner" needs no
 * transaction (dynalite has none). Reads are strongly consistent.
 *
 * @example
 * ```ts
 * const table = new DynamoTable({ client: new DynamoDBClient({}), tableName: 'spotjobs' });
 * const item = await table.put({ pk: 'build#abc', sk: 'state' }, { status: 'queued' }, { ifAbsent: true });
 * await table.put(item, { status: 'building' }, { ifVersion: item.version });
 * ```
 */
export class DynamoTable implements Table {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoTableOptions) {
    throwIfProblems('invalid DynamoTable options', [options.tableName ? undefined : 'tableName is required']);
    this.#tableName = options.tableName;
    this.#documents = DynamoDBDocumentClient.from(options.client, {
      // JSON numbers are doubles already; unmarshalled back as plain numbers (never BigInt).
      marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
      unmarshallOptions: { wrapNumbers: (value: string) => Number(value) },
    });
  }

  async get<T extends JsonObject = JsonObject>(
    key: TableKey,
    signal?: AbortSignal,
  ): Promise<TableItem<T> | undefined> {
    assertTableKey(key);
    throwIfAborted(signal);
    const out = await this.#call('GetItem', key, signal, () =>
      this.#documents.send(
        new GetCommand({ TableName: this.#tableName, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }),
        { abortSignal: signal },
      ),
    );
    return out.Item ? toItem<T>(out.Item) : undefined;
  }

  async put<T extends JsonObject>(
    key: TableKey,
    data: T,
    condition?: WriteCondition,
    signal?: AbortSignal,
  ): Promise<TableItem<T>> {
    checkTablePut(key, data, condition);
    throwIfAborted(signal);
    const conditional =
      condition === undefined
        ? {}
        : 'ifVersion' in condition
          ? { ConditionExpression: '#version = :expected', expected: condition.ifVersion }
          : { ConditionExpression: 'attribute_not_exists(pk)' };
    const out = await this.#call('UpdateItem', key, signal, () =>
      this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: 'SET #data = :data, #version = if_not_exists(#version, :zero) + :one',
          ConditionExpression: conditional.ConditionExpression,
          ExpressionAttributeNames: NAMES,
          ExpressionAttributeValues: {
            ':data': data,
            ':zero': 0,
            ':one': 1,
            ...('expected' in conditional ? { ':expected': conditional.expected } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal: signal },
      ),
    );
    return toItem<T>(out.Attributes ?? {});
  }

  async delete(
    key: TableKey,
    condition?: { readonly ifVersion: number },
    signal?: AbortSignal,
  ): Promise<void> {
    checkTableDelete(key, condition);
    throwIfAborted(signal);
    await this.#call('DeleteItem', key, signal, () =>
      this.#documents.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: { pk: key.pk, sk: key.sk },
          ...(condition
            ? {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': condition.ifVersion },
              }
            : {}),
        }),
        { abortSignal: signal },
      ),
    );
  }

  async query<T extends JsonObject = JsonObject>(
    pk: string,
    options: QueryOptions = {},
    signal?: AbortSignal,
  ): Promise<TablePage<T>> {
    const { prefix, limit, cursor, reverse } = checkTableQuery(pk, options);
    const start = cursor === undefined ? undefined : decodeCursor(cursor, pk, prefix);
    throwIfAborted(signal);
    const out = await this.#call('Query', { pk, sk: prefix ?? '' }, signal, () =>
      this.#documents.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk, ...(prefix ? { ':prefix': prefix } : {}) },
          ConsistentRead: true,
          ScanIndexForward: !reverse,
          // One more than asked: a cursor only when another item really follows.
          Limit: limit + 1,
          ExclusiveStartKey: start ? { pk: start.pk, sk: start.sk } : undefined,
        }),
        { abortSignal: signal },
      ),
    );
    const found = (out.Items ?? []).map((item) => toItem<T>(item));
    const items = found.slice(0, limit);
    const last = items.at(-1);
    // DynamoDB also stops at 1 MB per page: then LastEvaluatedKey says more may follow.
    const more = found.length > limit || out.LastEvaluatedKey !== undefined;
    return more && last ? { items, cursor: encodeCursor(last) } : { items };
  }

  async #call<R>(
    operation: string,
    key: TableKey,
    signal: AbortSignal | undefined,
    fn: () => Promise<R>,
  ): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw translateAwsError(err, {
        operation,
        key: `${key.pk}/${key.sk}`,
        container: this.#tableName,
        signal,
      });
    }
  }
}
