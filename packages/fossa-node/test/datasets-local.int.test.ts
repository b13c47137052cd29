import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { openLocalStore } from '@spotjobs/core/local';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataset } from '../src/datasets/dataset.ts';
import { DatasetUriError } from '../src/errors.ts';
import { blobStoreBackend, type DatasetBackend, datasetSuite } from './support/dataset-suite.ts';
import { uniqueId } from './support/runtime.ts';

const run = promisify(execFile);
const root = await mkdtemp(join(tmpdir(), 'fossa-datasets-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function fileBackend(): Promise<DatasetBackend> {
  const dir = join(root, uniqueId('files-'));
  return {
    uri: (name) => join(dir, name),
    io: {},
    async putRaw(name, bytes) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, name), bytes);
    },
    getRaw: (name) => readFile(join(dir, name)).catch(() => undefined),
  };
}

const store = await openLocalStore({ dataDir: join(root, 'store') });
afterAll(() => store.close());

/** s3:// URIs served by the embedded default's FsBlobStore (one namespace per bucket). */
async function fsBlobBackend(): Promise<DatasetBackend> {
  return blobStoreBackend('lake', store.blobs({ namespace: 'lake' }), uniqueId('fs-'));
}

datasetSuite('local files', fileBackend);
datasetSuite('s3:// URIs on an FsBlobStore', fsBlobBackend);

describe('local dataset files', () => {
  it('writes gzip that the gzip tool reads, and reads what the gzip tool wrote (several members too)', async () => {
    const dir = join(root, uniqueId('gz-'));
    const ours = openDataset(join(dir, 'ours.csv.gz'));
    await ours.write([{ a: 'x,y', b: '2' }]);
    await writeFile(join(dir, 'theirs.ndjson'), '{"n":1}\n{"n":2}\n');
    await run('gzip', ['-k', join(dir, 'theirs.ndjson')]);
    const members = Buffer.concat([gzipSync('{"n":3}\n'), gzipSync('{"n":4}\n')]);
    await writeFile(join(dir, 'members.ndjson.gz'), members);

    const { stdout } = await run('gzip', ['-dc', join(dir, 'ours.csv.gz')]);
    const theirs = [];
    for await (const row of openDataset(join(dir, 'theirs.ndjson.gz')).records()) theirs.push(row);
    const both = [];
    for await (const row of openDataset(join(dir, 'members.ndjson.gz')).records()) both.push(row);

    expect(stdout).toBe('a,b\r\n"x,y",2\r\n');
    expect(theirs).toEqual([{ n: 1 }, { n: 2 }]);
    expect(both).toEqual([{ n: 3 }, { n: 4 }]);
  });

  it("reads Aye-Aye's engine URLs and file URLs", async () => {
    const dir = join(root, uniqueId('eng-'));
    await openDataset(`gz+ndjson://${dir}/rows`).write([{ a: 1 }]);
    await openDataset(`csv://${dir}/table.txt`).write([{ b: 'two words' }]);

    const rows = [];
    for await (const row of openDataset(`file://${encodeURI(dir)}/rows`, {
      format: 'ndjson',
      compression: 'gzip',
    }))
      rows.push(row);
    const table = [];
    for await (const row of openDataset(join(dir, 'table.txt'), { format: 'csv' })) table.push(row);

    expect(rows).toEqual([{ a: 1 }]);
    expect(table).toEqual([{ b: 'two words' }]);
  });

  it('creates missing directories, and leaves no temporary file behind after a commit or an abort', async () => {
    const dir = join(root, uniqueId('tmp-'));
    const dataset = openDataset(join(dir, 'deep', 'er', 'rows.ndjson'));

    await dataset.write([{ a: 1 }]);
    const aborted = await dataset.openWriter();
    await aborted.add({ a: 2 });
    await aborted.abort();

    expect(await readdir(join(dir, 'deep', 'er'))).toEqual(['rows.ndjson']);
  });

  it('keeps local paths inside the local root', async () => {
    const localRoot = join(root, uniqueId('root-'));
    const inside = openDataset('sub/rows.ndjson', { localRoot });
    await inside.write([{ a: 1 }]);

    expect(await readFile(join(localRoot, 'sub', 'rows.ndjson'), 'utf8')).toBe('{"a":1}\n');
    expect(() => openDataset(join(dirname(localRoot), 'escape.ndjson'), { localRoot })).toThrow(
      DatasetUriError,
    );
    expect(() => openDataset('sub/../../escape.ndjson', { localRoot })).toThrow(DatasetUriError);
  });

  it('refuses an s3:// dataset when no store is configured for its bucket', async () => {
    await expect(openDataset('s3://nowhere/a.csv').openWriter()).rejects.toThrow(
      /no S3 store for bucket "nowhere"/,
    );
    await expect(openDataset('s3://nowhere/a.csv').exists()).rejects.toThrow(DatasetUriError);
  });
});
