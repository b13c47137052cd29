// The format readers on in-memory bytes; the same code reads files and S3 objects (see the
// datasets-*.int.test.ts files for those, with real gzip).
import { describe, expect, it } from 'vitest';
import { csvRecords } from '../src/datasets/csv-format.ts';
import { jsonDocumentRecords, readJsonDocument } from '../src/datasets/json-format.ts';
import { readLines } from '../src/datasets/line-reader.ts';
import { ndjsonRecords } from '../src/datasets/ndjson-format.ts';
import { formatError } from './support/dataset-suite.ts';

/** `data` as a stream of Buffers of `size` bytes, so pieces split lines and UTF-8 characters. */
async function* chunks(data: string | Buffer, size = 3): AsyncGenerator<Buffer> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('readLines', () => {
  it('splits LF and CRLF lines across pieces, decodes UTF-8 split mid-character and drops a leading BOM', async () => {
    const lines = await collect(
      readLines(chunks('\uFEFFgrüß\r\n🐟\n\nlast', 1), { uri: 'u', maxLineBytes: 100 }),
    );

    expect(lines).toEqual([
      { text: 'grüß', line: 1 },
      { text: '🐟', line: 2 },
      { text: '', line: 3 },
      { text: 'last', line: 4 },
    ]);
  });

  it('refuses invalid UTF-8 and over-long lines with their line numbers', async () => {
    const bad = Buffer.concat([Buffer.from('ok\nok\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const invalid = await formatError(collect(readLines(chunks(bad), { uri: 'u', maxLineBytes: 100 })));
    const long = await formatError(
      collect(readLines(chunks(`a\n${'x'.repeat(50)}`), { uri: 'u', maxLineBytes: 20 })),
    );

    expect([invalid.line, invalid.reason]).toEqual([3, 'not valid UTF-8']);
    expect([long.line, long.reason]).toEqual([2, 'the line is longer than 20 bytes']);
  });
});

describe('ndjsonRecords', () => {
  it('reads one object per line and skips blank lines', async () => {
    const rows = await collect(
      ndjsonRecords('u', chunks('{"a":1}\n\n  \r\n{"a":"x\\ny"}\r\n'), { maxRecordBytes: 1000 }),
    );

    expect(rows).toEqual([{ a: 1 }, { a: 'x\ny' }]);
  });

  it('refuses a line that is not JSON, or not an object, with its line number', async () => {
    const notJson = await formatError(
      collect(ndjsonRecords('u.ndjson', chunks('{"a":1}\n{"a":\n'), { maxRecordBytes: 1000 })),
    );
    const notObject = await formatError(
      collect(ndjsonRecords('u.ndjson', chunks('{}\n\n[1,2]\n'), { maxRecordBytes: 1000 })),
    );

    expect(notJson.line).toBe(2);
    expect(notJson.reason).toMatch(/^not JSON \(/);
    expect([notObject.line, notObject.reason]).toEqual([3, 'the line is JSON but not an object']);
  });
});

describe('csvRecords', () => {
  it('keys records by the header and strips a BOM', async () => {
    const rows = await collect(
      csvRecords('u', chunks('\uFEFFid,note\r\n1,"a, b"\r\n2,\r\n', 2), { maxRecordBytes: 1000 }),
    );

    expect(rows).toEqual([
      { id: '1', note: 'a, b' },
      { id: '2', note: '' },
    ]);
  });

  it('uses the given field names when there is no header line, and checks the header against them otherwise', async () => {
    const headerless = await collect(
      csvRecords('u', chunks('1,2\n'), { fieldNames: ['a', 'b'], header: false, maxRecordBytes: 1000 }),
    );
    const checked = await collect(
      csvRecords('u', chunks('a,b\n1,2\n'), { fieldNames: ['a', 'b'], maxRecordBytes: 1000 }),
    );
    const wrong = await formatError(
      collect(csvRecords('u', chunks('b,a\n'), { fieldNames: ['a', 'b'], maxRecordBytes: 1000 })),
    );

    expect(headerless).toEqual([{ a: '1', b: '2' }]);
    expect(checked).toEqual([{ a: '1', b: '2' }]);
    expect([wrong.line, wrong.reason]).toEqual([1, 'the header is ["b","a"], not ["a","b"]']);
    await expect(
      collect(csvRecords('u', chunks(''), { header: false, maxRecordBytes: 1000 })),
    ).rejects.toThrow(/needs fieldNames/);
  });

  it('keeps a column named __proto__ as data', async () => {
    const [row] = await collect(csvRecords('u', chunks('__proto__,x\nhello,1\n'), { maxRecordBytes: 1000 }));

    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row!)).toEqual(['__proto__', 'x']);
  });

  it.each([
    ['a,b\n1,2\n3\n', 3, 'the record has 1 fields, the header has 2'],
    ['a,a\n1,2\n', 1, 'the CSV field name "a" appears twice'],
    ['a,,c\n', 1, 'a CSV field name is empty'],
    ['a,b\n1,"2\n', 2, 'a quoted field is never closed'],
  ])('refuses %j at line %i', async (text, line, reason) => {
    const err = await formatError(collect(csvRecords('u.csv', chunks(text), { maxRecordBytes: 1000 })));

    expect([err.line, err.reason]).toEqual([line, reason]);
  });

  it('refuses invalid UTF-8', async () => {
    const err = await formatError(
      collect(csvRecords('u.csv', chunks(Buffer.from([0x61, 0x0a, 0xff, 0x0a])), { maxRecordBytes: 1000 })),
    );

    expect(err.reason).toBe('not valid UTF-8');
  });
});

describe('JSON documents', () => {
  it('reads a whole document, and its records when it is an array of objects', async () => {
    const document = await readJsonDocument('u', chunks('\n[{"a":1},\n {"a":2}]'), {
      maxDocumentBytes: 1000,
    });

    expect(document).toEqual([{ a: 1 }, { a: 2 }]);
    expect([...jsonDocumentRecords('u', document)]).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('refuses bad JSON with the line of the error, a document too large, and records of a non-array', async () => {
    const bad = await formatError(
      readJsonDocument('u.json', chunks('{\n  "a": 1,\n  "b": }\n'), { maxDocumentBytes: 1000 }),
    );
    const large = await formatError(
      readJsonDocument('u.json', chunks('[1,2,3,4,5]'), { maxDocumentBytes: 4 }),
    );

    expect(bad.line).toBe(3);
    expect(large.reason).toBe('the JSON document is larger than 4 bytes');
    expect(() => [...jsonDocumentRecords('u.json', { a: 1 })]).toThrow(/not an array of records/);
    expect(() => [...jsonDocumentRecords('u.json', [{}, 2])]).toThrow(/element 1 is not an object/);
  });
});
