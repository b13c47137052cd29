// LocalTable behaviour beyond the port conformance suite: byte order of sort keys, paging
// edges, conditional writes across two connections to one data dir, reopening, validation.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LocalTable } from '../src/adapters/local/index.ts';
import { ConditionFailedError, ValidationError } from '../src/errors.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

const name = () => `t-${randomUUID().slice(0, 8)}`;

async function setup(): Promise<LocalTable> {
  return (await tempStore()).table(name());
}

async function allSortKeys(
  table: LocalTable,
  pk: string,
  options: { prefix?: string; reverse?: boolean; limit: number },
) {
  const keys: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await table.query(pk, { ...options, ...(cursor ? { cursor } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(options.limit);
    keys.push(...page.items.map((item) => item.sk));
    cursor = page.cursor;
    pages++;
  } while (cursor);
  return { keys, pages };
}

describe('LocalTable', () => {
  it('orders sort keys by UTF-8 bytes, as DynamoDB does, not by UTF-16 code units', async () => {
    const table = await setup();
    // U+FF5E sorts after U+1F600 in UTF-16 (0xFF5E > 0xD83D) but before it in UTF-8 (EF.. < F0..).
    const keys = ['😀', '～', 'é', 'a', 'Z', '中', 'a\u0000b', 'ab'];
    for (const sk of keys) await table.put({ pk: 'p', sk }, { sk });

    const { items } = await table.query('p');

    expect(items.map((item) => item.sk)).toEqual(['Z', 'a', 'a\u0000b', 'ab', 'é', '中', '～', '😀']);
  });

  it('pages through a prefix forwards and backwards, each item exactly once', async () => {
    const table = await setup();
    const inside = Array.from({ length: 23 }, (_, i) => `job#${String(i).padStart(2, '0')}`);
    for (const sk of [...inside, 'job', 'joc#00', 'jnz', 'job$']) await table.put({ pk: 'p', sk }, {});
    await table.put({ pk: 'other', sk: 'job#00' }, {});

    const forward = await allSortKeys(table, 'p', { prefix: 'job#', limit: 5 });
    const backward = await allSortKeys(table, 'p', { prefix: 'job#', limit: 5, reverse: true });

    expect(forward).toEqual({ keys: inside, pages: 5 });
    expect(backward).toEqual({ keys: [...inside].reverse(), pages: 5 });
  });

  it('answers no cursor when a page ends exactly at the last item', async () => {
    const table = await setup();
    for (const sk of ['a', 'b', 'c', 'd']) await table.put({ pk: 'p', sk }, {});

    const first = await table.query('p', { limit: 2 });
    const second = await table.query('p', { limit: 2, cursor: first.cursor! });

    expect(second.items.map((item) => item.sk)).toEqual(['c', 'd']);
    expect(second.cursor).toBeUndefined();
    expect((await table.query('p', { limit: 4 })).cursor).toBeUndefined();
  });

  it('versions restart at 1 when an item is deleted and created again', async () => {
    const table = await setup();
    const key = { pk: 'p', sk: 's' };
    await table.put(key, { n: 1 });
    const second = await table.put(key, { n: 2 });
    await table.delete(key, { ifVersion: second.version });

    const recreated = await table.put(key, { n: 3 }, { ifAbsent: true });

    expect(second.version).toBe(2);
    expect(recreated).toEqual({ pk: 'p', sk: 's', version: 1, data: { n: 3 } });
  });

  it('answers a copy of the data, unaffected by later changes to the caller object', async () => {
    const table = await setup();
    const data = { list: [1, 2] };

    const item = await table.put({ pk: 'p', sk: 's' }, data);
    data.list.push(3);

    expect(item.data).toEqual({ list: [1, 2] });
    expect((await table.get({ pk: 'p', sk: 's' }))?.data).toEqual({ list: [1, 2] });
  });

  it('conditional writes from two connections to one data dir: exactly one wins', async () => {
    const dataDir = await tempDataDir();
    const tableName = name();
    const one = (await tempStore({ dataDir })).table(tableName);
    const two = (await tempStore({ dataDir })).table(tableName);
    const key = { pk: 'claim', sk: 'job-1' };
    const created = await one.put(key, { owner: 'nobody' });

    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? one : two).put(key, { owner: `worker-${i}` }, { ifVersion: created.version }),
      ),
    );

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const r of lost) expect(r.reason).toBeInstanceOf(ConditionFailedError);
    expect((await two.get(key))?.version).toBe(2);
  });

  it('ConditionFailedError names the table and key', async () => {
    const table = await setup();
    await table.put({ pk: 'p', sk: 's' }, {});

    const error = await table.put({ pk: 'p', sk: 's' }, {}, { ifAbsent: true }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect((error as ConditionFailedError).key).toBe(`${table.name}[p|s]`);
  });

  it('keeps items across a reopen of the data dir', async () => {
    const dataDir = await tempDataDir();
    const tableName = name();
    const before = await tempStore({ dataDir });
    await before.table(tableName).put({ pk: 'p', sk: 's' }, { kept: true });
    await before.close();

    const after = (await tempStore({ dataDir })).table(tableName);

    expect(await after.get({ pk: 'p', sk: 's' })).toEqual({
      pk: 'p',
      sk: 's',
      version: 1,
      data: { kept: true },
    });
  });

  // The rules themselves are tested once, in ports-table-validation.test.ts: here, that every
  // call applies them before it touches the database, and LocalTable's own cursor and names.
  it('rejects invalid keys, data, conditions, limits and cursors', async () => {
    const store = await tempStore();
    const table = store.table(name());
    const invalid: (() => unknown)[] = [
      () => table.get({ pk: 'p', sk: 'lone \uDC00' }),
      () => table.put({ pk: 'p', sk: 's' }, { n: Number.NaN }),
      () => table.put({ pk: 'p', sk: 's' }, {}, { ifVersion: 0 }),
      () => table.delete({ pk: 'p', sk: 's' }, { ifVersion: -1 }),
      () => table.query('p', { limit: 1001 }),
      () => table.query('p', { cursor: 'not a cursor!' }),
    ];
    for (const call of invalid) {
      await expect(Promise.resolve().then(call), call.toString()).rejects.toBeInstanceOf(ValidationError);
    }
    for (const bad of ['ab', 'has space', 'slash/no'])
      expect(() => store.table(bad), bad).toThrow(ValidationError);
    expect((await table.query('p')).items).toEqual([]);
  });
});
