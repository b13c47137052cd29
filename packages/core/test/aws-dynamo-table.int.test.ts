import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoTable, ensureDynamoTable } from '../src/adapters/aws/index.ts';
import { AbortedError, ConditionFailedError, NotFoundError, ValidationError } from '../src/errors.ts';
import type { TableKey } from '../src/ports/table.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

const client = new DynamoDBClient({ ...awsTestClientConfig, endpoint: inject('emulators').dynamodb });
const tableName = `table-${randomUUID().slice(0, 8)}`;
const table = new DynamoTable({ client, tableName });

function key(sk = 'state'): TableKey {
  return { pk: `p-${randomUUID().slice(0, 8)}`, sk };
}

beforeAll(async () => {
  await ensureDynamoTable(client, tableName);
  await ensureDynamoTable(client, tableName); // idempotent
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
});

describe('DynamoTable on dynalite', () => {
  it('creates at version 1, bumps the version on every write and reads back nested JSON', async () => {
    const k = key();
    const data = {
      status: 'queued',
      n: 1.5,
      big: 2 ** 60,
      none: null,
      tags: ['a', ''],
      nested: { ok: true, e: {} },
    };

    const created = await table.put(k, data);
    const updated = await table.put(k, { status: 'building' });
    const read = await table.get(k);

    expect(created).toEqual({ ...k, version: 1, data });
    expect(updated).toEqual({ ...k, version: 2, data: { status: 'building' } });
    expect(read).toEqual(updated);
    expect(await table.get(key())).toBeUndefined();
  });

  it('lets exactly one of two ifAbsent writes win', async () => {
    const k = key();

    const results = await Promise.allSettled([
      table.put(k, { by: 'a' }, { ifAbsent: true }),
      table.put(k, { by: 'b' }, { ifAbsent: true }),
    ]);

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConditionFailedError);
    expect((lost[0]!.reason as ConditionFailedError).key).toBe(`${k.pk}/${k.sk}`);
  });

  it('writes and deletes ifVersion only at the exact version', async () => {
    const k = key();
    const v1 = await table.put(k, { step: 1 });

    const v2 = await table.put(k, { step: 2 }, { ifVersion: 1 });
    await expect(table.put(k, { step: 3 }, { ifVersion: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(table.put(key(), { step: 1 }, { ifVersion: 1 })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await expect(table.delete(k, { ifVersion: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(table.delete(key(), { ifVersion: 1 })).rejects.toBeInstanceOf(ConditionFailedError);
    await table.delete(k, { ifVersion: 2 });
    await table.delete(k); // missing: fine

    expect(v1.version).toBe(1);
    expect(v2).toMatchObject({ version: 2, data: { step: 2 } });
    expect(await table.get(k)).toBeUndefined();
  });

  it('queries a partition in sort-key order, by prefix, reversed, page by page, with a cursor only while more remain', async () => {
    const pk = `q-${randomUUID().slice(0, 8)}`;
    const sks = ['job#01', 'job#02', 'job#03', 'job#04', 'log#01', 'state'];
    for (const sk of sks) await table.put({ pk, sk }, { sk });
    await table.put({ pk: `${pk}-other`, sk: 'job#00' }, {});

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await table.query(pk, { prefix: 'job#', limit: 2, cursor });
      pages.push(page.items.map((item) => item.sk));
      cursor = page.cursor;
    } while (cursor);
    const reversed = await table.query(pk, { reverse: true, limit: 3 });
    const all = await table.query(pk);

    expect(pages).toEqual([
      ['job#01', 'job#02'],
      ['job#03', 'job#04'],
    ]);
    expect(reversed.items.map((item) => item.sk)).toEqual(['state', 'log#01', 'job#04']);
    expect(reversed.cursor).toEqual(expect.any(String));
    expect(all.items.map((item) => item.sk)).toEqual(sks);
    expect(all.cursor).toBeUndefined();
    expect(all.items[0]).toEqual({ pk, sk: 'job#01', version: 1, data: { sk: 'job#01' } });
  });

  it('rejects cursors from another partition or outside the prefix', async () => {
    const pk = `c-${randomUUID().slice(0, 8)}`;
    for (const sk of ['a#1', 'a#2', 'b#1']) await table.put({ pk, sk }, {});
    const { cursor } = await table.query(pk, { prefix: 'a#', limit: 1 });

    await expect(table.query(`${pk}-other`, { cursor })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.query(pk, { prefix: 'b#', cursor })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.query(pk, { cursor: 'not a cursor' })).rejects.toBeInstanceOf(ValidationError);
    expect((await table.query(pk, { prefix: 'a#', cursor })).items.map((item) => item.sk)).toEqual(['a#2']);
  });

  // The rules themselves are tested once, in ports-table-validation.test.ts: here, that every
  // call applies them before it reaches DynamoDB (dynalite would store a lone surrogate).
  it('rejects invalid keys and data before calling DynamoDB', async () => {
    const k = key();
    const lone = { pk: k.pk, sk: 'lone \uD800' };
    await expect(table.get(lone)).rejects.toBeInstanceOf(ValidationError);
    await expect(table.put(lone, {})).rejects.toBeInstanceOf(ValidationError);
    await expect(table.put(k, { n: Number.NaN })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.put(k, {}, { ifVersion: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.delete(k, { ifVersion: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(table.query(k.pk, { limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    expect((await table.query(k.pk)).items).toEqual([]);
  });

  it('maps a missing table to NotFoundError and an aborted call to AbortedError', async () => {
    const missing = new DynamoTable({ client, tableName: `missing-${randomUUID().slice(0, 8)}` });

    const failure = await missing.get(key()).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(NotFoundError);
    expect((failure as NotFoundError).key).toMatch(/^missing-/);
    await expect(table.get(key(), AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });
});
