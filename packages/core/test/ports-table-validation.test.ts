// The Table port's input rules (DynamoDB's), tested once here; LocalTable and DynamoTable both
// call them, and their own tests only check that they do.
import { describe, expect, it } from 'vitest';
import { TableLimits } from '../src/ports/table.ts';
import {
  assertTableKey,
  checkTableDelete,
  checkTablePut,
  checkTableQuery,
} from '../src/ports/table-validation.ts';
import { issuesOf } from './support/validation-issues.ts';

const key = { pk: 'p', sk: 's' };

describe('table key rules', () => {
  it('accepts non-empty keys of valid UTF-8 up to 1024 bytes', () => {
    for (const part of ['x', 'build#abc', 'é😀', 'k'.repeat(TableLimits.maxKeyBytes)]) {
      expect(
        issuesOf(() => assertTableKey({ pk: part, sk: part })),
        part,
      ).toEqual([]);
    }
  });

  it('rejects empty, oversized, non-string and unpaired-surrogate key parts, naming each', () => {
    for (const part of [
      '',
      'k'.repeat(TableLimits.maxKeyBytes + 1),
      'é'.repeat(513), // 1026 bytes in 513 characters
      'lone \uDC00',
      '\uD800',
      7,
      undefined,
    ]) {
      expect(
        issuesOf(() => assertTableKey({ pk: 'p', sk: part as never })),
        String(part),
      ).toHaveLength(1);
    }
    expect(issuesOf(() => assertTableKey({ pk: '', sk: '' }))).toEqual([
      'pk must be a non-empty string',
      'sk must be a non-empty string',
    ]);
    expect(issuesOf(() => assertTableKey(null as never))).toEqual(['key must be { pk, sk }']);
  });
});

describe('table data rules', () => {
  it('answers the JSON of a plain JSON object, dropping undefined properties as JSON does', () => {
    const shared = { n: 1 };

    expect(
      checkTablePut(key, { a: [1, 'x', true, null, { b: shared }], c: shared, d: undefined }, undefined),
    ).toBe('{"a":[1,"x",true,null,{"b":{"n":1}}],"c":{"n":1}}');
  });

  it('rejects what is not a plain JSON object: arrays, NaN, Dates, class instances, functions, cycles', () => {
    const circular: Record<string, unknown> = { ok: 1 };
    circular.self = { back: circular };
    for (const data of [
      [],
      null,
      'text',
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { d: new Date() },
      { m: new Map() },
      { f: () => 1 },
      { big: 1n },
      { list: [1, undefined] },
      { nested: { deep: [{ s: Symbol('x') }] } },
      circular,
    ]) {
      expect(
        issuesOf(() => checkTablePut(key, data, undefined)),
        String(data),
      ).toHaveLength(1);
    }
    expect(issuesOf(() => checkTablePut(key, circular, undefined))).toEqual([
      'data.self.back refers to itself',
    ]);
  });

  it('allows data of exactly the size limit serialised, and rejects one byte more', () => {
    const filler = 'x'.repeat(TableLimits.maxDataBytes - '{"f":""}'.length);

    expect(checkTablePut(key, { f: filler }, undefined)).toHaveLength(TableLimits.maxDataBytes);
    expect(issuesOf(() => checkTablePut(key, { f: `${filler}x` }, undefined))).toEqual([
      `data is ${TableLimits.maxDataBytes + 1} bytes serialised, more than ${TableLimits.maxDataBytes}`,
    ]);
  });
});

describe('table condition and query rules', () => {
  it('takes { ifAbsent: true } or { ifVersion: n } with n an integer from 1', () => {
    for (const condition of [
      undefined,
      { ifAbsent: true },
      { ifVersion: 1 },
      { ifVersion: Number.MAX_SAFE_INTEGER },
    ]) {
      expect(
        issuesOf(() => checkTablePut(key, {}, condition as never)),
        JSON.stringify(condition),
      ).toEqual([]);
    }
    for (const condition of [
      { ifAbsent: false },
      { ifAbsent: 'yes' },
      { ifVersion: 0 },
      { ifVersion: -1 },
      { ifVersion: 1.5 },
      { ifVersion: '2' },
      { ifAbsent: true, ifVersion: 1 },
      {},
      null,
      'ifAbsent',
    ]) {
      expect(
        issuesOf(() => checkTablePut(key, {}, condition as never)),
        JSON.stringify(condition),
      ).toHaveLength(1);
    }

    expect(issuesOf(() => checkTableDelete(key, undefined))).toEqual([]);
    expect(issuesOf(() => checkTableDelete(key, { ifVersion: 2 }))).toEqual([]);
    for (const condition of [{ ifVersion: 0 }, { ifVersion: 2.5 }, null, 'x']) {
      expect(
        issuesOf(() => checkTableDelete(key, condition as never)),
        JSON.stringify(condition),
      ).toHaveLength(1);
    }
  });

  it('lists every problem of a write at once', () => {
    expect(
      issuesOf(() => checkTablePut({ pk: '', sk: 's' }, { n: Number.NaN }, { ifVersion: 0 })),
    ).toHaveLength(3);
    expect(issuesOf(() => checkTableDelete({ pk: '', sk: '' }, { ifVersion: 0 }))).toHaveLength(3);
  });

  it('queries 1-1000 per page (default 100) by a pk and an optional prefix, both valid key parts', () => {
    expect(checkTableQuery('p', {})).toEqual({ limit: 100, reverse: false });
    expect(checkTableQuery('p', { prefix: '', limit: 1000, cursor: 'c', reverse: true })).toEqual({
      limit: 1000,
      cursor: 'c',
      reverse: true,
    });
    expect(checkTableQuery('p', { prefix: 'step#' }).prefix).toBe('step#');

    for (const [pk, options] of [
      ['', {}],
      ['lone \uD800', {}],
      ['p', { prefix: 'k'.repeat(TableLimits.maxKeyBytes + 1) }],
      ['p', { prefix: 'lone \uDC00' }],
      ['p', { limit: 0 }],
      ['p', { limit: 1001 }],
      ['p', { limit: 1.5 }],
      ['p', { cursor: '' }],
    ] as const) {
      expect(
        issuesOf(() => checkTableQuery(pk, options)),
        JSON.stringify([pk, options]),
      ).toHaveLength(1);
    }
    expect(issuesOf(() => checkTableQuery('p', null as never))).toEqual(['options must be an object']);
  });
});
