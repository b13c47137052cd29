import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/adapters/aws/dynamo-cursor.ts';
import { ValidationError } from '../src/errors.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('DynamoTable query cursors', () => {
  it('round-trips a key, including unicode and JSON-special characters', () => {
    const key = { pk: 'build#é/"x"', sk: 'job#0001\u2028' };

    const cursor = encodeCursor(key);

    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, key.pk, 'job#')).toEqual(key);
    expect(decodeCursor(cursor, key.pk, undefined)).toEqual(key);
  });

  it('rejects cursors that are not ours with ValidationError', () => {
    const bad = [
      '',
      'has spaces',
      'abc=', // padding is not base64url as we write it
      Buffer.from('not json').toString('base64url'),
      b64([1, 2]),
      b64(null),
      b64({ pk: 'p' }),
      b64({ pk: 'p', sk: 3 }),
      b64({ pk: 'p', sk: 's', extra: true }),
    ];

    for (const cursor of bad)
      expect(() => decodeCursor(cursor, 'p', undefined), cursor).toThrow(ValidationError);
  });

  it('rejects a cursor of another partition or outside the prefix', () => {
    const cursor = encodeCursor({ pk: 'p1', sk: 'job#1' });

    expect(() => decodeCursor(cursor, 'p2', undefined)).toThrow(/another partition/);
    expect(() => decodeCursor(cursor, 'p1', 'log#')).toThrow(/outside the prefix/);
  });
});
