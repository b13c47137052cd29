import { describe, expect, it, onTestFinished } from 'vitest';
import { AbortedError, ConditionFailedError, ValidationError } from '../errors.ts';
import {
  type JsonObject,
  type QueryOptions,
  type Table,
  type TableItem,
  TableLimits,
  type TablePage,
} from '../ports/table.ts';
import { conformanceTestTimeoutMs as timeout } from './conformance-support.ts';

/** What a `tableConformance` factory hands each test: a fresh, empty table of its own. */
export interface TableConformanceSubject {
  readonly table: Table;
  /** Deletes the table and closes what `create` opened. */
  dispose(): Promise<void>;
}

/**
 * The `Table` port's written semantics as one vitest suite; call it once per adapter with a
 * factory that creates a fresh table per test (unique names, so files run in parallel).
 *
 * @example
 * ```ts
 * tableConformance('DynamoTable', async () => {
 *   const tableName = `t-${randomUUID()}`;
 *   await ensureDynamoTable(client, tableName);
 *   return {
 *     table: new DynamoTable({ client, tableName }),
 *     dispose: () => client.send(new DeleteTableCommand({ TableName: tableName })).then(() => {}),
 *   };
 * });
 * ```
 */
export function tableConformance(label: string, create: () => Promise<TableConformanceSubject>): void {
  async function setup(): Promise<TableConformanceSubject> {
    const subject = await create();
    onTestFinished(() => subject.dispose());
    return subject;
  }

  describe(`Table conformance: ${label}`, () => {
    it(
      'put creates version 1, every write adds one, and get returns the latest item',
      async () => {
        const { table } = await setup();
        const key = { pk: 'build#abc', sk: 'state' };
        expect(await table.get(key)).toBeUndefined();

        const v1 = await table.put(key, { status: 'queued', attempt: 0 });
        const v2 = await table.put(key, { status: 'building' });
        const v3 = await table.put(key, { status: 'done', artifact: 'a.tbz2' });

        expect(v1).toEqual({ ...key, version: 1, data: { status: 'queued', attempt: 0 } });
        expect([v2.version, v3.version]).toEqual([2, 3]);
        // A write replaces the data: nothing from earlier versions is merged in.
        expect(await table.get(key)).toEqual({
          ...key,
          version: 3,
          data: { status: 'done', artifact: 'a.tbz2' },
        });
      },
      timeout,
    );

    it(
      'data round-trips nested JSON exactly',
      async () => {
        const { table } = await setup();
        const key = { pk: 'json#1', sk: 'doc' };
        const data: JsonObject = {
          text: 'héllo ✓ 𝄞 "quoted" \\ back',
          empty: '',
          int: 42,
          negative: -7,
          float: 3.25,
          maxSafe: Number.MAX_SAFE_INTEGER,
          zero: 0,
          yes: true,
          no: false,
          nothing: null,
          list: [1, 'two', null, false, { three: [3, [3.5]] }, [], {}],
          nested: { a: { b: { c: 'deep', d: [] } }, emptyObject: {} },
          'key with spaces.and.dots': 'ok',
        };

        const written = await table.put(key, data);

        expect(written.data).toEqual(data);
        expect((await table.get(key))?.data).toEqual(data);
      },
      timeout,
    );

    it(
      'put with ifAbsent creates an item once, then fails with ConditionFailedError',
      async () => {
        const { table } = await setup();
        const key = { pk: 'dedupe#x', sk: 'request' };

        const created = await table.put(key, { by: 'first' }, { ifAbsent: true });
        await expect(table.put(key, { by: 'second' }, { ifAbsent: true })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );

        expect(created.version).toBe(1);
        expect(await table.get(key)).toEqual({ ...key, version: 1, data: { by: 'first' } });
      },
      timeout,
    );

    it(
      'put with ifVersion succeeds only on the stored version, and never on a missing item',
      async () => {
        const { table } = await setup();
        const key = { pk: 'claim#7', sk: 'lease' };

        await expect(table.put(key, { owner: 'ghost' }, { ifVersion: 1 })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        expect(await table.get(key)).toBeUndefined();
        await table.put(key, { owner: 'a' });
        await expect(table.put(key, { owner: 'b' }, { ifVersion: 2 })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        const v2 = await table.put(key, { owner: 'c' }, { ifVersion: 1 });
        await expect(table.put(key, { owner: 'd' }, { ifVersion: 1 })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );

        expect(v2.version).toBe(2);
        expect(await table.get(key)).toEqual({ ...key, version: 2, data: { owner: 'c' } });
      },
      timeout,
    );

    it(
      'of N concurrent ifVersion writers exactly one wins',
      async () => {
        const { table } = await setup();
        const key = { pk: 'race#v', sk: 'item' };
        await table.put(key, { writer: -1 });

        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, (_, writer) => table.put(key, { writer }, { ifVersion: 1 })),
        );

        const winner = expectExactlyOneWinner(outcomes);
        expect(winner.version).toBe(2);
        expect(await table.get(key)).toEqual({ ...key, version: 2, data: winner.data });
      },
      timeout,
    );

    it(
      'of N concurrent ifAbsent writers exactly one wins',
      async () => {
        const { table } = await setup();
        const key = { pk: 'race#a', sk: 'item' };

        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, (_, writer) => table.put(key, { writer }, { ifAbsent: true })),
        );

        const winner = expectExactlyOneWinner(outcomes);
        expect(winner.version).toBe(1);
        expect(await table.get(key)).toEqual({ ...key, version: 1, data: winner.data });
      },
      timeout,
    );

    it(
      'delete removes an item, succeeds on a missing key, and honours ifVersion',
      async () => {
        const { table } = await setup();
        const key = { pk: 'del#1', sk: 'x' };

        await expect(table.delete({ pk: 'del#1', sk: 'missing' })).resolves.toBeUndefined();
        await expect(table.delete({ pk: 'del#1', sk: 'missing' }, { ifVersion: 1 })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        await table.put(key, { n: 1 });
        await table.put(key, { n: 2 });
        await expect(table.delete(key, { ifVersion: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
        expect((await table.get(key))?.version).toBe(2);
        await table.delete(key, { ifVersion: 2 });
        expect(await table.get(key)).toBeUndefined();

        // Written again after a delete, it is a new item: version 1.
        expect((await table.put(key, { n: 3 })).version).toBe(1);
        await table.delete(key);
        expect(await table.get(key)).toBeUndefined();
      },
      timeout,
    );

    it(
      'query pages through one partition in sort-key order, with prefix, reverse, limit and cursor',
      async () => {
        const { table } = await setup();
        const pk = 'tenant#acme';
        const itemKeys = Array.from({ length: 25 }, (_, i) => `item#${String(i).padStart(2, '0')}`);
        const otherKeys = ['meta#A', 'meta#B', 'meta#a'];
        // Written out of order, so the order read back comes from the adapter, not from insertion.
        const shuffled = [...itemKeys, ...otherKeys].sort((a, b) => (hash(a) < hash(b) ? -1 : 1));
        for (const sk of shuffled) await table.put({ pk, sk }, { sk });
        await table.put({ pk: 'tenant#other', sk: 'item#00' }, { sk: 'foreign' });

        const forward = await queryAll(table, pk, { prefix: 'item#', limit: 10 });
        expect(forward.pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
        expect(forward.pages.at(-1)?.cursor).toBeUndefined();
        expect(forward.items.map((i) => i.sk)).toEqual(itemKeys);
        expect(forward.items[3]).toEqual({ pk, sk: 'item#03', version: 1, data: { sk: 'item#03' } });

        const backward = await queryAll(table, pk, { prefix: 'item#', limit: 10, reverse: true });
        expect(backward.pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
        expect(backward.items.map((i) => i.sk)).toEqual([...itemKeys].reverse());

        // Default page size (100) holds the whole partition: byte order puts upper case first.
        const whole = await table.query(pk);
        expect(whole.cursor).toBeUndefined();
        expect(whole.items.map((i) => i.sk)).toEqual([...itemKeys, 'meta#A', 'meta#B', 'meta#a']);
        expect((await table.query(pk, { prefix: 'meta#' })).items.map((i) => i.sk)).toEqual(otherKeys);
        expect((await table.query(pk, { prefix: 'item#1' })).items.map((i) => i.sk)).toEqual(
          itemKeys.slice(10, 20),
        );
      },
      timeout,
    );

    it(
      'query of an empty partition or an unmatched prefix answers an empty page',
      async () => {
        const { table } = await setup();
        await table.put({ pk: 'p', sk: 'a' }, {});

        expect(await table.query('nobody')).toEqual({ items: [] });
        expect(await table.query('p', { prefix: 'zzz' })).toEqual({ items: [] });
      },
      timeout,
    );

    it(
      'rejects bad keys, oversized data and out-of-range limits with ValidationError',
      async () => {
        const { table } = await setup();
        const longKey = 'k'.repeat(TableLimits.maxKeyBytes + 1);
        const tooBig = { blob: 'x'.repeat(TableLimits.maxDataBytes + 1) };

        for (const call of [
          () => table.put({ pk: '', sk: 'a' }, {}),
          () => table.put({ pk: 'a', sk: '' }, {}),
          () => table.put({ pk: longKey, sk: 'a' }, {}),
          () => table.put({ pk: 'a', sk: longKey }, {}),
          () => table.put({ pk: 'a', sk: 'big' }, tooBig),
          () => table.get({ pk: '', sk: 'a' }),
          () => table.delete({ pk: 'a', sk: '' }),
          () => table.query(''),
          () => table.query('a', { limit: 0 }),
          () => table.query('a', { limit: 1001 }),
        ]) {
          await expect(call(), call.toString()).rejects.toBeInstanceOf(ValidationError);
        }
        expect(await table.query('a')).toEqual({ items: [] });

        // Large but within the limit is fine (DynamoDB's own limit is 400 KB per item).
        const large = { blob: 'x'.repeat(300_000) };
        await table.put({ pk: 'a', sk: 'large' }, large);
        expect((await table.get({ pk: 'a', sk: 'large' }))?.data).toEqual(large);
      },
      timeout,
    );

    it(
      'every call rejects with AbortedError when its signal is already aborted, and writes nothing',
      async () => {
        const { table } = await setup();
        const key = { pk: 'abort#1', sk: 'x' };
        await table.put(key, { n: 1 });
        const aborted = AbortSignal.abort();

        await expect(table.get(key, aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(table.put(key, { n: 2 }, undefined, aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(
          table.put({ pk: 'abort#1', sk: 'y' }, { n: 1 }, { ifAbsent: true }, aborted),
        ).rejects.toBeInstanceOf(AbortedError);
        await expect(table.delete(key, undefined, aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(table.query('abort#1', {}, aborted)).rejects.toBeInstanceOf(AbortedError);

        expect((await table.query('abort#1')).items).toEqual([{ ...key, version: 1, data: { n: 1 } }]);
      },
      timeout,
    );
  });
}

/** Asserts that exactly one write won and every other lost with `ConditionFailedError`; returns the winner. */
function expectExactlyOneWinner<T extends JsonObject>(
  outcomes: PromiseSettledResult<TableItem<T>>[],
): TableItem<T> {
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  const lost = outcomes.filter((o) => o.status === 'rejected');
  expect(won).toHaveLength(1);
  for (const o of lost) expect(o.reason).toBeInstanceOf(ConditionFailedError);
  return (won[0] as PromiseFulfilledResult<TableItem<T>>).value;
}

/** Follows cursors to the end of a query, keeping each page. */
async function queryAll(
  table: Table,
  pk: string,
  options: QueryOptions,
): Promise<{ pages: TablePage[]; items: TableItem[] }> {
  const pages: TablePage[] = [];
  let cursor: string | undefined;
  do {
    const page = await table.query(pk, { ...options, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 100);
  return { pages, items: pages.flatMap((p) => p.items) };
}

/** A cheap deterministic scramble for write order. */
function hash(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}
