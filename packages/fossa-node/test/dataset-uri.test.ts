import { describe, expect, it } from 'vitest';
import { type DatasetUriOptions, parseDatasetUri } from '../src/datasets/dataset-uri.ts';
import { DatasetUriError } from '../src/errors.ts';

function problems(uri: string, options?: DatasetUriOptions): readonly string[] {
  try {
    parseDatasetUri(uri, options);
  } catch (err) {
    if (err instanceof DatasetUriError) return err.issues;
    throw err;
  }
  return [];
}

describe('parseDatasetUri', () => {
  it.each([
    [
      's3://lake/2024/rows.ndjson.gz',
      'ndjson',
      'gzip',
      { kind: 's3', bucket: 'lake', key: '2024/rows.ndjson.gz' },
    ],
    ['s3+gz+csv://lake/raw/rows', 'csv', 'gzip', { kind: 's3', bucket: 'lake', key: 'raw/rows' }],
    ['s3://my.bucket-1/a.json', 'json', 'none', { kind: 's3', bucket: 'my.bucket-1', key: 'a.json' }],
    ['/data/in.jsonl', 'ndjson', 'none', { kind: 'file', path: '/data/in.jsonl' }],
    ['/data/in.CSV.GZ', 'csv', 'gzip', { kind: 'file', path: '/data/in.CSV.GZ' }],
    ['file:///data/with%20space.json', 'json', 'none', { kind: 'file', path: '/data/with space.json' }],
    ['csv:///data/results', 'csv', 'none', { kind: 'file', path: '/data/results' }],
    ['gz+ndjson:///data/x.log', 'ndjson', 'gzip', { kind: 'file', path: '/data/x.log' }],
  ])('reads %s', (uri, format, compression, storage) => {
    expect(parseDatasetUri(uri)).toEqual({ uri, format, compression, storage });
  });

  it('resolves relative paths against the local root, and keeps every path inside it', () => {
    expect(parseDatasetUri('out/a.csv', { localRoot: '/srv/data' }).storage).toEqual({
      kind: 'file',
      path: '/srv/data/out/a.csv',
    });
    expect(parseDatasetUri('/srv/data/b.csv', { localRoot: '/srv/data/' }).storage).toEqual({
      kind: 'file',
      path: '/srv/data/b.csv',
    });
    expect(problems('/etc/passwd.csv', { localRoot: '/srv/data' })).toEqual([
      'the path is outside the local root',
    ]);
    expect(problems('/srv/database.csv', { localRoot: '/srv/data' })).toEqual([
      'the path is outside the local root',
    ]);
  });

  it.each([
    ['/data/../etc/passwd.csv', 'the path has a .. segment'],
    ['csv://../up.csv', 'the path has a .. segment'],
    ['file:///data/%2e%2e/etc/x.csv', 'the path has a .. segment'],
    ['s3://lake/a/../b.csv', 'the object key is invalid: key has an empty, . or .. segment'],
    ['s3://lake//b.csv', 'the object key is invalid: key starts with /'],
    ['file://data/x.csv', 'a file URL needs an absolute path (file:///...)'],
    ['file:///data/a%00.csv', 'the file URL encodes a control character'],
    ['file:///data/%zz.csv', 'the file URL has a bad percent-encoding'],
    ['s3://Lake/b.csv', '"Lake" is not a valid S3 bucket name'],
    ['s3://192.168.1.1/b.csv', '"192.168.1.1" is not a valid S3 bucket name'],
    ['s3://lake', 'the object key is invalid: key is empty'],
    ['/data/dir/', 'the path names a directory'],
    ['/data/notes.txt', 'cannot tell the format: use a .ndjson, .json or .csv name, or give the format'],
    ['http://example.com/a.csv', 'unsupported scheme part "http" (use s3, gz, file, ndjson, json or csv)'],
    ['csv+json:///a', 'the scheme names more than one format'],
    ['s3+file://lake/a.csv', 'a dataset cannot be both s3 and file'],
    ['/data/a\u0000.csv', 'the URI contains a control character'],
  ])('refuses %j', (uri, problem) => {
    expect(problems(uri)).toContain(problem);
  });

  it('takes the format and compression from options when the URI does not say them, and refuses conflicts', () => {
    expect(parseDatasetUri('/data/rows', { format: 'ndjson', compression: 'gzip' })).toMatchObject({
      format: 'ndjson',
      compression: 'gzip',
    });
    expect(parseDatasetUri('/data/rows.csv.gz', { compression: 'none' }).compression).toBe('none');
    expect(problems('csv:///data/rows', { format: 'json' })).toEqual([
      'the scheme says csv but the format option says json',
    ]);
    expect(problems('gz+csv:///data/rows', { compression: 'none' })).toEqual([
      'the scheme says gz but the compression option says none',
    ]);
    expect(problems('', {})).toEqual(['the URI is empty']);
  });
});
