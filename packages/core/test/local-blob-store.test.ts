// FsBlobStore behaviour beyond the port conformance suite: what lands on disk, failures and
// aborts mid-write, readers during an overwrite, presigned URL checks, the signing key, sweep.
import { createHash } from 'node:crypto';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openLocalStore } from '../src/adapters/local/index.ts';
import { AbortedError, ConditionFailedError, NotFoundError, ValidationError } from '../src/errors.ts';
import { readAll } from '../src/testing/conformance-support.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

const objectFiles = (dataDir: string) => readdir(join(dataDir, 'blobs', 'objects'));
const tempFiles = (dataDir: string) => readdir(join(dataDir, 'blobs', 'tmp'));

async function setup() {
  const clock = new ManualClock();
  const dataDir = await tempDataDir();
  const store = await tempStore({ clock, dataDir });
  return { clock, dataDir, store, blobs: store.blobs({ baseUrl: 'http://127.0.0.1:9/files/' }) };
}

describe('FsBlobStore', () => {
  it('stores one file per object, named by a random id, never by key', async () => {
    const { dataDir, blobs } = await setup();

    const info = await blobs.put('results/../../escape', 'x').catch((e: unknown) => e);
    await blobs.put('results/42.json', '{"ok":true}', { contentType: 'application/json' });

    expect(info).toBeInstanceOf(ValidationError);
    const files = await objectFiles(dataDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{32}\.blob$/);
    expect(await tempFiles(dataDir)).toEqual([]);
  });

  it('answers S3-like info: md5 etag, size, clock time, lower-cased metadata names', async () => {
    const { clock, blobs } = await setup();
    const body = Buffer.from('hello blob');

    const info = await blobs.put('a.txt', body, {
      contentType: 'text/plain',
      metadata: { 'Build-Id': 'B42' },
    });

    expect(info).toEqual({
      key: 'a.txt',
      size: body.length,
      etag: createHash('md5').update(body).digest('hex'),
      lastModified: new Date(clock.now()),
      contentType: 'text/plain',
      metadata: { 'build-id': 'B42' },
    });
    expect(await blobs.head('a.txt')).toEqual(info);
  });

  it('an overwrite removes the replaced file, and a reader that opened it still reads it whole', async () => {
    const { dataDir, blobs } = await setup();
    const old = Buffer.alloc(256 * 1024, 'o');
    await blobs.put('k', old);
    const reading = await blobs.get('k');

    await blobs.put('k', 'new');

    expect(await objectFiles(dataDir)).toHaveLength(1);
    expect((await readAll(reading.body)).equals(old)).toBe(true);
    expect((await readAll((await blobs.get('k')).body)).toString()).toBe('new');
  });

  it('a losing ifAbsent put leaves the original and no file of its own', async () => {
    const { dataDir, blobs } = await setup();
    await blobs.put('once', 'first', { ifAbsent: true });

    await expect(blobs.put('once', 'second', { ifAbsent: true })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );

    expect((await readAll((await blobs.get('once')).body)).toString()).toBe('first');
    expect(await objectFiles(dataDir)).toHaveLength(1);
    expect(await tempFiles(dataDir)).toEqual([]);
  });

  it('a body stream that fails midway stores nothing and leaves no file behind', async () => {
    const { dataDir, blobs } = await setup();
    await blobs.put('k', 'previous');
    const body = new PassThrough();
    const putting = blobs.put('k', body);
    body.write(Buffer.alloc(64 * 1024, 'p'));

    body.destroy(new Error('upstream reset'));

    await expect(putting).rejects.toThrow();
    expect((await readAll((await blobs.get('k')).body)).toString()).toBe('previous');
    expect(await objectFiles(dataDir)).toHaveLength(1);
    expect(await tempFiles(dataDir)).toEqual([]);
  });

  it('an abort while a stream is being written rejects with AbortedError and stores nothing', async () => {
    const { dataDir, blobs } = await setup();
    const body = new PassThrough();
    const stop = new AbortController();
    const putting = blobs.put('k', body, {}, stop.signal);
    body.write('partial');

    stop.abort();

    await expect(putting).rejects.toBeInstanceOf(AbortedError);
    expect(await blobs.head('k')).toBeUndefined();
    expect(await objectFiles(dataDir)).toEqual([]);
    expect(await tempFiles(dataDir)).toEqual([]);
  });

  it('accepts a stream of string chunks', async () => {
    const { blobs } = await setup();

    const info = await blobs.put('s', Readable.from(['ab', 'cé']));

    expect(info.size).toBe(Buffer.byteLength('abcé'));
    expect((await readAll((await blobs.get('s')).body)).toString()).toBe('abcé');
  });

  it('keeps namespaces apart', async () => {
    const { store } = await setup();
    const one = store.blobs({ namespace: 'one' });
    const two = store.blobs({ namespace: 'two' });
    await one.put('shared/key', '1');

    await expect(two.get('shared/key')).rejects.toBeInstanceOf(NotFoundError);
    expect((await two.list()).items).toEqual([]);
    expect((await one.list({ prefix: 'shared/' })).items.map((i) => i.key)).toEqual(['shared/key']);
  });

  it('lists in UTF-8 byte order across pages', async () => {
    const { blobs } = await setup();
    const keys = ['😀', '～', 'é', 'a', 'Z', 'a/b', 'a-b'];
    for (const key of keys) await blobs.put(key, key);

    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await blobs.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      listed.push(...page.items.map((i) => i.key));
      cursor = page.cursor;
    } while (cursor);

    expect(listed).toEqual(['Z', 'a', 'a-b', 'a/b', 'é', '～', '😀']);
  });

  // The rules themselves are tested once, in ports-blob-validation.test.ts: here, that every
  // call applies them before it touches the disk, and FsBlobStore's own cursor and options.
  it('rejects unsafe keys and odd options before touching the disk', async () => {
    const { dataDir, store, blobs } = await setup();
    const invalid: (() => unknown)[] = [
      () => blobs.put('../secret', 'x'),
      () => blobs.put('lone\uD800', 'x'),
      () => blobs.put('k', 42 as never),
      () => blobs.put('k', 'x', { metadata: { n: 'non-ascii é' } }),
      () => blobs.get('..'),
      () => blobs.head('a//b'),
      () => blobs.delete('/etc/passwd'),
      () => blobs.list({ limit: 1001 }),
      () => blobs.list({ prefix: '../' }),
      () => blobs.list({ cursor: '%%%' }),
      () => blobs.presign('k', { method: 'GET', expiresInSeconds: 604_801 }),
      () => store.blobs().presign('k', { method: 'GET', expiresInSeconds: 60 }), // no baseUrl
    ];
    for (const call of invalid) {
      await expect(Promise.resolve().then(call), call.toString()).rejects.toBeInstanceOf(ValidationError);
    }
    for (const namespace of ['', '../up', 'a/b', '.hidden']) {
      expect(() => store.blobs({ namespace }), namespace).toThrow(ValidationError);
    }
    expect(() => store.blobs({ baseUrl: 'ftp://host/x' })).toThrow(ValidationError);
    expect(await objectFiles(dataDir)).toEqual([]);
  });

  it('presigns URLs that check out until they expire, and only for their method and key', async () => {
    const { clock, blobs } = await setup();

    const url = new URL(await blobs.presign('dir/a b.txt', { method: 'GET', expiresInSeconds: 60 }));
    const expires = url.searchParams.get('expires')!;
    const sig = url.searchParams.get('sig')!;

    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9/files/default/dir/a%20b.txt');
    expect(Number(expires)).toBe(Math.ceil(clock.now() / 1000) + 60);
    expect(blobs.checkPresigned('GET', 'dir/a b.txt', expires, sig)).toBe('valid');
    expect(blobs.checkPresigned('PUT', 'dir/a b.txt', expires, sig)).toBe('invalid');
    expect(blobs.checkPresigned('GET', 'dir/other.txt', expires, sig)).toBe('invalid');
    expect(blobs.checkPresigned('GET', 'dir/a b.txt', String(Number(expires) + 1), sig)).toBe('invalid');
    // The first character carries 6 whole bits of the MAC (the last one partly padding), so
    // changing it always changes the signature.
    const forged = `${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
    expect(blobs.checkPresigned('GET', 'dir/a b.txt', expires, forged)).not.toBe('valid');
    await clock.advance(60_000);
    expect(blobs.checkPresigned('GET', 'dir/a b.txt', expires, sig)).toBe('expired');
  });

  it('keeps one private signing key per data dir, shared by every store that opens it', async () => {
    const clock = new ManualClock();
    const dataDir = await tempDataDir();
    const one = (await tempStore({ clock, dataDir })).blobs({ baseUrl: 'http://localhost:1' });
    const two = (await tempStore({ clock, dataDir })).blobs({ baseUrl: 'http://localhost:1' });
    const other = (await tempStore({ clock })).blobs({ baseUrl: 'http://localhost:1' });

    const url = await one.presign('k', { method: 'PUT', expiresInSeconds: 10 });

    expect(await two.presign('k', { method: 'PUT', expiresInSeconds: 10 })).toBe(url);
    expect(await other.presign('k', { method: 'PUT', expiresInSeconds: 10 })).not.toBe(url);
    expect((await stat(join(dataDir, 'blob-signing.key'))).mode & 0o777).toBe(0o600);
  });

  it('sweep removes old temp files and unreferenced objects, and keeps the rest', async () => {
    const { dataDir, blobs } = await setup();
    await blobs.put('kept', 'kept');
    const [kept] = await objectFiles(dataDir);
    const old = new Date(Date.now() - 2 * 3_600_000);
    const orphan = join(dataDir, 'blobs', 'objects', 'orphan.blob');
    const staleTemp = join(dataDir, 'blobs', 'tmp', 'stale.blob');
    const youngTemp = join(dataDir, 'blobs', 'tmp', 'young.blob');
    for (const path of [orphan, staleTemp, youngTemp]) await writeFile(path, 'partial');
    for (const path of [orphan, staleTemp, join(dataDir, 'blobs', 'objects', kept!)])
      await utimes(path, old, old);

    expect(await blobs.sweep()).toBe(2);

    expect(await objectFiles(dataDir)).toEqual([kept]);
    expect(await tempFiles(dataDir)).toEqual(['young.blob']);
    expect((await readAll((await blobs.get('kept')).body)).toString()).toBe('kept');
  });

  it('keeps objects across a reopen of the data dir', async () => {
    const dataDir = await tempDataDir();
    const before = await openLocalStore({ dataDir });
    await before.blobs({ namespace: 'n' }).put('k', 'durable');
    await before.close();

    const after = (await tempStore({ dataDir })).blobs({ namespace: 'n' });

    expect((await readAll((await after.get('k')).body)).toString()).toBe('durable');
  });
});
