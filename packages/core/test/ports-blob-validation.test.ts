// The BlobStore port's input rules (S3's), tested once here; FsBlobStore and S3BlobStore both
// call them, and their own tests only check that they do.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.ts';
import { assertBlobKey, BlobLimits, blobKeyProblem } from '../src/ports/blob-store.ts';
import { checkBlobList, checkBlobPresign, checkBlobPut } from '../src/ports/blob-validation.ts';
import { issuesOf } from './support/validation-issues.ts';

describe('blob key rules', () => {
  it('accepts relative keys of valid UTF-8 up to 1024 bytes', () => {
    for (const key of ['a', 'a/b/c.txt', 'é/😀', '.hidden/x..y', 'k'.repeat(BlobLimits.maxKeyBytes)]) {
      expect(blobKeyProblem(key), key).toBeUndefined();
    }
  });

  it('rejects empty, absolute, traversing, control-character, unpaired-surrogate and oversized keys', () => {
    for (const key of [
      '',
      '/abs',
      '../x',
      'a/../../x',
      'a/./b',
      'a//b',
      'a/',
      'a\\b',
      'tab\there',
      'nul\u0000',
      'del\u007f',
      'lone\uD800',
      'lone\uDC00tail',
      'k'.repeat(BlobLimits.maxKeyBytes + 1),
      'é'.repeat(513), // 1026 bytes in 513 characters
      42 as never,
    ]) {
      expect(blobKeyProblem(key), JSON.stringify(key)).toBeDefined();
      expect(() => assertBlobKey(key)).toThrow(ValidationError);
    }
  });
});

describe('blob put rules', () => {
  it('accepts string, byte and stream bodies, and answers metadata names lower-cased, as S3 stores them', () => {
    for (const body of ['x', new Uint8Array(1), Readable.from([])]) {
      expect(checkBlobPut('k', body, {}), String(body)).toEqual({ ifAbsent: false, metadata: {} });
    }

    expect(
      checkBlobPut('k', 'x', {
        ifAbsent: true,
        contentType: 'text/plain; charset=utf-8',
        metadata: { 'Build-Id': 'B42', "x!#$%&'*+.^_`|~": '' },
      }),
    ).toEqual({
      ifAbsent: true,
      contentType: 'text/plain; charset=utf-8',
      metadata: { 'build-id': 'B42', "x!#$%&'*+.^_`|~": '' },
    });
    const checked = checkBlobPut('k', 'x', { metadata: JSON.parse('{"__proto__":"v","constructor":"c"}') });
    expect(Object.keys(checked.metadata)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(checked.metadata)).toBe(Object.prototype);
  });

  it('rejects a bad key or body, a non-boolean ifAbsent and a content type that is not printable ASCII', () => {
    expect(() => checkBlobPut('../k', 'x', {})).toThrow(ValidationError);
    for (const [body, options] of [
      [42, {}],
      [null, {}],
      ['x', { ifAbsent: 'yes' }],
      ['x', { contentType: '' }],
      ['x', { contentType: 'text/é' }],
      ['x', { contentType: 'a\nb' }],
    ] as const) {
      expect(
        issuesOf(() => checkBlobPut('k', body as never, options as never)),
        JSON.stringify(options),
      ).toHaveLength(1);
    }
    expect(issuesOf(() => checkBlobPut('k', 'x', null as never))).toEqual(['options must be an object']);
  });

  it('takes metadata names as header tokens, values as printable ASCII, each name once in any case', () => {
    const metadataIssues = (metadata: unknown) =>
      issuesOf(() => checkBlobPut('k', 'x', { metadata } as never));

    for (const name of ['bad name', 'é', 'a:b', 'a/b', '']) {
      expect(metadataIssues({ [name]: 'v' }), name).toHaveLength(1);
    }
    for (const value of ['non-ascii é', 'line\nbreak', 7]) {
      expect(metadataIssues({ n: value }), String(value)).toHaveLength(1);
    }
    expect(metadataIssues({ Name: 'a', name: 'b' })).toEqual([
      'metadata name "name" is given twice, in any case',
    ]);
    expect(metadataIssues('a=b')).toEqual(['metadata must be an object of strings']);
  });

  it('allows 2 KB of metadata, names and values together', () => {
    const metadata = (valueBytes: number) => ({ big: 'v'.repeat(valueBytes) });
    const room = BlobLimits.maxMetadataBytes - 'big'.length;

    expect(checkBlobPut('k', 'x', { metadata: metadata(room) }).metadata.big).toHaveLength(room);
    expect(issuesOf(() => checkBlobPut('k', 'x', { metadata: metadata(room + 1) }))).toEqual([
      `metadata is ${BlobLimits.maxMetadataBytes + 1} bytes, more than ${BlobLimits.maxMetadataBytes}`,
    ]);
  });
});

describe('blob presign and list rules', () => {
  it('presigns GET or PUT for 1 s to 7 days', () => {
    expect(issuesOf(() => checkBlobPresign('k', { method: 'GET', expiresInSeconds: 1 }))).toEqual([]);
    expect(issuesOf(() => checkBlobPresign('k', { method: 'PUT', expiresInSeconds: 604_800 }))).toEqual([]);
    expect(
      issuesOf(() => checkBlobPresign('k', { method: 'DELETE' as never, expiresInSeconds: 0 })),
    ).toHaveLength(2);
    expect(issuesOf(() => checkBlobPresign('k', { method: 'GET', expiresInSeconds: 604_801 }))).toHaveLength(
      1,
    );
    expect(issuesOf(() => checkBlobPresign('k', { method: 'GET', expiresInSeconds: 1.5 }))).toHaveLength(1);
    expect(issuesOf(() => checkBlobPresign('k', undefined as never))).toHaveLength(2);
    expect(() => checkBlobPresign('/k', { method: 'GET', expiresInSeconds: 60 })).toThrow(ValidationError);
  });

  it('lists 1-1000 per page (default 1000) under a prefix some valid key could start with', () => {
    expect(checkBlobList({})).toEqual({ prefix: '', limit: 1000 });
    expect(checkBlobList({ prefix: 'logs/', limit: 1, cursor: 'c' })).toEqual({
      prefix: 'logs/',
      limit: 1,
      cursor: 'c',
    });
    for (const prefix of ['a', 'a/', 'a/.', 'a/..', 'é', 'k'.repeat(BlobLimits.maxKeyBytes)]) {
      expect(checkBlobList({ prefix }).prefix, prefix).toBe(prefix);
    }

    for (const options of [
      { limit: 0 },
      { limit: 1001 },
      { limit: 2.5 },
      { cursor: '' },
      { prefix: '../' },
      { prefix: '/abs' },
      { prefix: 'a//' },
      { prefix: 'a/../' },
      { prefix: 'lone\uD800' },
      { prefix: 'k'.repeat(BlobLimits.maxKeyBytes + 1) },
      { prefix: 7 },
    ]) {
      expect(
        issuesOf(() => checkBlobList(options as never)),
        JSON.stringify(options),
      ).toHaveLength(1);
    }
  });
});
