// One suite for the dataset connectors, run against each place datasets live: local files,
// S3 through S3BlobStore on the emulator, and s3:// URIs served by an FsBlobStore. Each
// backend gives URIs under a unique prefix, so files and runs never collide.
import { gzipSync } from 'node:zlib';
import type { BlobStore, JsonObject } from '@spotjobs/core';
import { AbortedError, NotFoundError } from '@spotjobs/core';
import { describe, expect, it } from 'vitest';
import { type Dataset, type OpenDatasetOptions, openDataset } from '../../src/datasets/dataset.ts';
import type { DatasetIoOptions } from '../../src/datasets/dataset-io.ts';
import { DatasetFormatError, DatasetUsageError } from '../../src/errors.ts';

export interface DatasetBackend {
  /** The URI of dataset `name` (a file name with its extensions) under this backend's unique prefix. */
  uri(name: string): string;
  readonly io: DatasetIoOptions;
  /** Stores `bytes` as dataset `name`, bypassing the connectors (for malformed input). */
  putRaw(name: string, bytes: Buffer): Promise<void>;
  /** The bytes stored as dataset `name`, or `undefined` when there is none. */
  getRaw(name: string): Promise<Buffer | undefined>;
}

/** s3:// URIs under `prefix` in `bucket`, served by `blobs` (any BlobStore: S3 or files). */
export function blobStoreBackend(bucket: string, blobs: BlobStore, prefix: string): DatasetBackend {
  return {
    uri: (name) => `s3://${bucket}/${prefix}/${name}`,
    io: { bucketStore: (name) => (name === bucket ? blobs : undefined) },
    async putRaw(name, bytes) {
      await blobs.put(`${prefix}/${name}`, bytes);
    },
    async getRaw(name) {
      try {
        const { body } = await blobs.get(`${prefix}/${name}`);
        return Buffer.concat(await body.toArray());
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
  };
}

const GZIP_MAGIC = [0x1f, 0x8b];

const nestedRecords: JsonObject[] = [
  { id: 1, name: 'alpha', tags: ['x', 'y'], nested: { ok: true, n: null } },
  { id: 2, name: 'Grüße 🐟', tags: [], nested: { ok: false, n: 1.5 } },
  { id: 3, name: 'line\nbreak "quoted"', tags: ['\u2028'], nested: {} },
];

// Every CSV value that needs care: delimiters, quotes, line breaks of each kind, spaces at the
// edges, an empty string, non-ASCII, and things that look like CSV syntax.
const awkwardCsvRecords: JsonObject[] = [
  { a: 'plain', b: 'with, comma', c: 'with "quotes"' },
  { a: 'crlf\r\ninside', b: 'lf\ninside', c: 'cr\rinside' },
  { a: '', b: ' padded ', c: '"' },
  { a: '""', b: ',', c: 'ü🐟∑' },
  { a: '=1+1', b: '\t', c: '"a","b"\r\n' },
];

async function readAll(dataset: Dataset): Promise<JsonObject[]> {
  const rows: JsonObject[] = [];
  for await (const row of dataset.records()) rows.push(row);
  return rows;
}

/** The `DatasetFormatError` `promise` rejects with; throws when it settles any other way. */
export async function formatError(promise: Promise<unknown>): Promise<DatasetFormatError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DatasetFormatError))
    throw new Error(`expected a DatasetFormatError, got ${String(err)}`);
  return err;
}

/** CSV reads every value back as text. */
function asCsvText(record: JsonObject): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

export function datasetSuite(label: string, makeBackend: () => Promise<DatasetBackend>): void {
  const open = (backend: DatasetBackend, name: string, options: OpenDatasetOptions = {}) =>
    openDataset(backend.uri(name), { ...backend.io, ...options });

  describe(`dataset connectors on ${label}`, () => {
    describe.each([
      ['plain', ''],
      ['gzip', '.gz'],
    ])('%s', (compression, suffix) => {
      it('round-trips NDJSON records, one object per line', async () => {
        const backend = await makeBackend();
        const dataset = open(backend, `rows.ndjson${suffix}`);

        const summary = await dataset.write(nestedRecords);
        const raw = await backend.getRaw(`rows.ndjson${suffix}`);

        expect(await readAll(dataset)).toEqual(nestedRecords);
        expect(summary).toEqual({ records: 3, bytes: raw!.length });
        expect([...raw!.subarray(0, 2)].join() === GZIP_MAGIC.join()).toBe(compression === 'gzip');
        if (compression === 'plain') expect(raw!.toString().split('\n')).toHaveLength(4); // three lines and the final LF
      });

      it('round-trips JSON records as one array, and whole documents with data()', async () => {
        const backend = await makeBackend();
        const rows = open(backend, `rows.json${suffix}`);
        const settings = open(backend, `settings.json${suffix}`, { indent: 2 });

        await rows.write(nestedRecords);
        await settings.writeData({ version: 2, list: [1, 'two'] });

        expect(await readAll(rows)).toEqual(nestedRecords);
        expect(await rows.data()).toEqual(nestedRecords);
        expect(await settings.data()).toEqual({ version: 2, list: [1, 'two'] });
        if (compression === 'plain') {
          expect((await backend.getRaw('settings.json'))!.toString()).toBe(
            '{\n  "version": 2,\n  "list": [\n    1,\n    "two"\n  ]\n}\n',
          );
        }
      });

      it('round-trips CSV records through RFC 4180 quoting, values read back as text', async () => {
        const backend = await makeBackend();
        const dataset = open(backend, `awkward.csv${suffix}`);
        const typed = open(backend, `typed.csv${suffix}`, { fieldNames: ['id', 'score', 'ok', 'missing'] });

        await dataset.write(awkwardCsvRecords);
        await typed.write([{ id: 7, score: 1.25, ok: true, missing: null }, { id: 8 }]);

        const headerless = open(backend, `headerless.csv${suffix}`, {
          fieldNames: ['x', 'y'],
          csvHeader: false,
        });
        await headerless.write([{ x: 1, y: 'a,b' }]);

        expect(await readAll(dataset)).toEqual(awkwardCsvRecords);
        expect(await readAll(headerless)).toEqual([{ x: '1', y: 'a,b' }]);
        expect(
          await formatError(readAll(open(backend, `typed.csv${suffix}`, { fieldNames: ['id', 'other'] }))),
        ).toMatchObject({
          line: 1,
          reason: 'the header is ["id","score","ok","missing"], not ["id","other"]',
        });
        expect(await readAll(typed)).toEqual([
          asCsvText({ id: 7, score: 1.25, ok: true, missing: null }),
          { id: '8', score: '', ok: '', missing: '' },
        ]);
        if (compression === 'plain') {
          expect((await backend.getRaw('typed.csv'))!.toString()).toBe(
            'id,score,ok,missing\r\n7,1.25,true,\r\n8,,,\r\n',
          );
          expect((await backend.getRaw('headerless.csv'))!.toString()).toBe('1,"a,b"\r\n');
        }
      });

      it('writes and reads empty datasets of each format', async () => {
        const backend = await makeBackend();
        const names = [`e.ndjson${suffix}`, `e.json${suffix}`, `e.csv${suffix}`, `h.csv${suffix}`];
        const datasets = names.map((name) =>
          open(backend, name, name.startsWith('h') ? { fieldNames: ['a'] } : {}),
        );

        for (const dataset of datasets) expect(await dataset.write([])).toMatchObject({ records: 0 });

        for (const dataset of datasets) expect(await readAll(dataset)).toEqual([]);
        if (compression === 'plain') expect((await backend.getRaw('h.csv'))!.toString()).toBe('a\r\n');
      });

      it.each([
        ['bad.ndjson', '{"ok":1}\n{"ok":2}\n{"ok":\n', 3, /^not JSON/],
        ['bad.ndjson', '{"ok":1}\r\n\r\n"just a string"\r\n', 3, /not an object/],
        [
          'bad.csv',
          'a,b\r\n1,2\r\n"multi\r\nline",3\r\n4,5,6\r\n',
          5,
          /the record has 3 fields, the header has 2/,
        ],
        ['bad.csv', 'a,b\n1,x"y\n', 2, /quote inside an unquoted field/],
        ['bad.csv', 'a,b\n1,"never closed\n2,3\n', 2, /a quoted field is never closed/],
        ['bad.json', '[\n  {"a": 1},\n  {"a": 2,}\n]\n', 3, /^not JSON/],
      ])('refuses malformed %s with the line number (%#)', async (name, text, line, reason) => {
        const backend = await makeBackend();
        await backend.putRaw(`${name}${suffix}`, suffix ? gzipSync(text) : Buffer.from(text));

        const err = await formatError(readAll(open(backend, `${name}${suffix}`)));

        expect(err.line).toBe(line);
        expect(err.reason).toMatch(reason);
        expect(err.uri).toBe(backend.uri(`${name}${suffix}`));
      });

      it('leaves the previous content in place when a write is aborted or a record cannot be written', async () => {
        const backend = await makeBackend();
        const dataset = open(backend, `keep.csv${suffix}`);
        await dataset.write([{ v: 'original' }]);

        const aborted = await dataset.openWriter();
        await aborted.add({ v: 'replacement' });
        await aborted.abort();
        const failing = dataset.write([{ v: 'replacement' }, { v: { nested: 'no' } }]);

        await expect(failing).rejects.toThrow(/record 1 field "v" is not a string, number, boolean or null/);
        expect(await readAll(dataset)).toEqual([{ v: 'original' }]);
      });

      it('reports a missing dataset as NotFoundError, and exists() follows writes', async () => {
        const backend = await makeBackend();
        const dataset = open(backend, `later.ndjson${suffix}`);

        expect(await dataset.exists()).toBe(false);
        await expect(readAll(dataset)).rejects.toBeInstanceOf(NotFoundError);
        await dataset.write([{ a: 1 }]);
        expect(await dataset.exists()).toBe(true);
      });
    });

    it('streams many records through gzip, and stops cleanly when the reader breaks off early', async () => {
      const backend = await makeBackend();
      const dataset = open(backend, 'many.ndjson.gz');
      async function* generate(): AsyncGenerator<JsonObject> {
        for (let i = 0; i < 20_000; i++) yield { i, text: `row ${i} ${'x'.repeat(i % 50)}` };
      }

      const summary = await dataset.write(generate());
      let count = 0;
      let sum = 0;
      for await (const row of dataset.records()) {
        count++;
        sum += row.i as number;
      }
      const firstThree: JsonObject[] = [];
      for await (const row of dataset.records()) {
        firstThree.push(row);
        if (firstThree.length === 3) break;
      }

      expect(summary.records).toBe(20_000);
      expect([count, sum]).toEqual([20_000, (19_999 * 20_000) / 2]);
      expect(firstThree.map((r) => r.i)).toEqual([0, 1, 2]);
    });

    it('refuses corrupt and truncated gzip as a format error', async () => {
      const backend = await makeBackend();
      const good = gzipSync(Buffer.from('{"a":1}\n'.repeat(1000)));
      await backend.putRaw(
        'corrupt.ndjson.gz',
        Buffer.concat([good.subarray(0, 20), Buffer.alloc(40, 0xab), good.subarray(60)]),
      );
      await backend.putRaw('truncated.ndjson.gz', good.subarray(0, good.length - 12));
      await backend.putRaw('notgzip.ndjson.gz', Buffer.from('{"a":1}\n'));

      for (const name of ['corrupt.ndjson.gz', 'truncated.ndjson.gz', 'notgzip.ndjson.gz']) {
        const err = await formatError(readAll(open(backend, name)));
        expect(err.reason, name).toMatch(/^not valid gzip/);
      }
    });

    it('stops a read with AbortedError when the signal aborts', async () => {
      const backend = await makeBackend();
      const dataset = open(backend, 'abort.ndjson');
      await dataset.write(Array.from({ length: 5000 }, (_, i) => ({ i })));
      const controller = new AbortController();

      const reading = (async () => {
        for await (const row of dataset.records(controller.signal)) if (row.i === 10) controller.abort();
      })();

      await expect(reading).rejects.toBeInstanceOf(AbortedError);
    });

    it('refuses what a format cannot do, and a writer used after close', async () => {
      const backend = await makeBackend();
      const csv = open(backend, 'u.csv');
      const writer = await csv.openWriter();
      await writer.add({ a: 1 });
      await writer.close();

      await expect(writer.add({ a: 2 })).rejects.toBeInstanceOf(DatasetUsageError);
      await expect(csv.data()).rejects.toBeInstanceOf(DatasetUsageError);
      await expect(csv.writeData([])).rejects.toBeInstanceOf(DatasetUsageError);
      await expect(csv.write([{ a: 1 }, { b: 2 }])).rejects.toThrow(
        /record 1 has field "b", which is not a column/,
      );
      await backend.putRaw('object.json', Buffer.from('{"not":"an array"}'));
      await expect(readAll(open(backend, 'object.json'))).rejects.toThrow(/not an array of records/);
    });
  });
}
