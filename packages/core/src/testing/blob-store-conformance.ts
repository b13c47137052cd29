import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AbortedError, ConditionFailedError, NotFoundError, ValidationError } from '../errors.ts';
import type { BlobPage, BlobStore, ListBlobsOptions } from '../ports/blob-store.ts';
import {
  readAll,
  settlesWithin,
  sha256,
  conformanceTestTimeoutMs as timeout,
} from './conformance-support.ts';

/** What a `blobStoreConformance` factory hands each test: a fresh, empty store of its own. */
export interface BlobStoreConformanceSubject {
  readonly store: BlobStore;
  /** Deletes what the test wrote and closes what `create` opened. */
  dispose(): Promise<void>;
  /**
   * What the backend can prove. `conditionalPut: false` is for an emulator that ignores
   * `If-None-Match` (fauxqs), where an `ifAbsent` refusal cannot be observed. Default: true.
   */
  readonly capabilities?: { readonly conditionalPut?: boolean };
}

/**
 * The `BlobStore` port's written semantics as one vitest suite; call it once per adapter with
 * a factory that creates a fresh store (its own bucket, prefix or directory) per test.
 *
 * @example
 * ```ts
 * blobStoreConformance('S3BlobStore', async () => {
 *   const bucket = `b-${randomUUID()}`;
 *   await ensureS3Bucket(client, bucket);
 *   return {
 *     store: new S3BlobStore({ client, bucket }),
 *     dispose: () => emptyAndDeleteBucket(client, bucket),
 *     capabilities: { conditionalPut: false },
 *   };
 * });
 * ```
 */
export function blobStoreConformance(
  label: string,
  create: () => Promise<BlobStoreConformanceSubject>,
): void {
  async function setup(): Promise<BlobStoreConformanceSubject> {
    const subject = await create();
    onTestFinished(() => subject.dispose());
    return subject;
  }

  describe(`BlobStore conformance: ${label}`, () => {
    it(
      'round-trips binary data exactly, with content type and metadata',
      async () => {
        const { store } = await setup();
        const key = 'artifacts/x86_64/pkg-1.0.tbz2';
        const data = Buffer.concat([
          Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
          randomBytes(300_000),
        ]);
        const metadata = { origin: 'conformance', 'build-id': '42' };

        const put = await store.put(key, data, { contentType: 'application/x-bzip2', metadata });
        const head = await store.head(key);
        const got = await store.get(key);
        const body = await readAll(got.body);

        expect(put).toMatchObject({ key, size: data.length });
        expect(put.etag).not.toBe('');
        expect(sha256(body)).toBe(sha256(data));
        expect(got.info).toMatchObject({
          key,
          size: data.length,
          etag: put.etag,
          contentType: 'application/x-bzip2',
        });
        expect(got.info.metadata).toEqual(metadata);
        expect(head).toMatchObject({
          key,
          size: data.length,
          etag: put.etag,
          contentType: 'application/x-bzip2',
        });
        expect(head?.metadata).toEqual(metadata);
        expect(head?.lastModified).toBeInstanceOf(Date);
      },
      timeout,
    );

    it(
      'accepts string, Uint8Array and stream bodies, and overwrites',
      async () => {
        const { store } = await setup();
        const text = 'héllo ✓ 𝄞\n';
        const chunks = Array.from({ length: 3 }, () => randomBytes(1024 * 1024 + 7));
        const joined = Buffer.concat(chunks);

        await store.put('body/string.txt', text);
        await store.put('body/bytes.bin', new Uint8Array([0, 255, 10, 13]));
        await store.put('body/stream.bin', Readable.from(chunks));

        expect((await readAll((await store.get('body/string.txt')).body)).toString('utf8')).toBe(text);
        expect([...(await readAll((await store.get('body/bytes.bin')).body))]).toEqual([0, 255, 10, 13]);
        expect(sha256(await readAll((await store.get('body/stream.bin')).body))).toBe(sha256(joined));
        expect((await store.head('body/string.txt'))?.size).toBe(Buffer.byteLength(text));

        await store.put('body/string.txt', 'second');
        expect((await readAll((await store.get('body/string.txt')).body)).toString('utf8')).toBe('second');
      },
      timeout,
    );

    it(
      'round-trips a large streamed body of unknown length (12 MiB)',
      async () => {
        const { store } = await setup();
        const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));

        const put = await store.put('big/stream.bin', Readable.from(chunks));

        expect(put.size).toBe(12 * 1024 * 1024);
        const got = await store.get('big/stream.bin');
        expect(got.info.size).toBe(12 * 1024 * 1024);
        expect(sha256(await readAll(got.body))).toBe(sha256(Buffer.concat(chunks)));
      },
      timeout,
    );

    it(
      'put is atomic: while a new body is being written, readers get the whole old one',
      async () => {
        const { store } = await setup();
        const key = 'atomic/object.bin';
        const before = randomBytes(512 * 1024);
        const after = randomBytes(512 * 1024);
        await store.put(key, before);

        const body = new PassThrough();
        const putting = store.put(key, body);
        putting.catch(() => {}); // asserted below
        body.write(after.subarray(0, after.length / 2));
        await sleep(100); // let the adapter start writing the first half

        expect(sha256(await readAll((await store.get(key)).body))).toBe(sha256(before));
        expect((await store.head(key))?.size).toBe(before.length);

        body.end(after.subarray(after.length / 2));
        await putting;
        expect(sha256(await readAll((await store.get(key)).body))).toBe(sha256(after));
      },
      timeout,
    );

    it(
      'a put whose body fails leaves the old object intact and creates nothing new',
      async () => {
        const { store } = await setup();
        const existing = randomBytes(64 * 1024);
        await store.put('failing/existing.bin', existing);

        for (const key of ['failing/existing.bin', 'failing/new.bin']) {
          const body = new PassThrough();
          const putting = store.put(key, body);
          putting.catch(() => {}); // asserted below
          body.write(randomBytes(32 * 1024));
          await sleep(50);
          body.destroy(new Error('source read failed'));
          await expect(putting).rejects.toThrow();
        }

        expect(sha256(await readAll((await store.get('failing/existing.bin')).body))).toBe(sha256(existing));
        expect(await store.head('failing/new.bin')).toBeUndefined();
        expect((await store.list({ prefix: 'failing/' })).items.map((i) => i.key)).toEqual([
          'failing/existing.bin',
        ]);
      },
      timeout,
    );

    it(
      'missing keys: get rejects with NotFoundError, head answers undefined, delete succeeds',
      async () => {
        const { store } = await setup();

        await expect(store.get('missing/never.bin')).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.head('missing/never.bin')).toBeUndefined();
        await expect(store.delete('missing/never.bin')).resolves.toBeUndefined();

        await store.put('missing/soon.bin', 'here for now');
        await store.delete('missing/soon.bin');
        await expect(store.get('missing/soon.bin')).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.head('missing/soon.bin')).toBeUndefined();
        expect((await store.list({ prefix: 'missing/' })).items).toEqual([]);
      },
      timeout,
    );

    it(
      'put with ifAbsent writes a missing key, and refuses an existing one where the backend can tell',
      async () => {
        const { store, capabilities } = await setup();

        const created = await store.put('claims/once.txt', 'first', { ifAbsent: true });
        expect(created.size).toBe(5);
        expect((await readAll((await store.get('claims/once.txt')).body)).toString()).toBe('first');

        // fauxqs ignores If-None-Match (see the emulator reference), so against it the refusal below
        // cannot be observed and asserting either outcome would test the emulator, not the adapter.
        // S3BlobStore proves its 412 -> ConditionFailedError mapping in its own adapter test.
        if (capabilities?.conditionalPut === false) return;

        await expect(store.put('claims/once.txt', 'second', { ifAbsent: true })).rejects.toBeInstanceOf(
          ConditionFailedError,
        );
        expect((await readAll((await store.get('claims/once.txt')).body)).toString()).toBe('first');

        const outcomes = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            store.put('claims/race.txt', `writer ${i}`, { ifAbsent: true }),
          ),
        );
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        expect(won).toHaveLength(1);
        for (const o of outcomes)
          if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ConditionFailedError);
        expect((await readAll((await store.get('claims/race.txt')).body)).toString()).toBe(
          `writer ${won[0]}`,
        );
      },
      timeout,
    );

    it(
      'list pages keys in ascending byte order with limit and cursor; prefix narrows it',
      async () => {
        const { store } = await setup();
        const logKeys = Array.from({ length: 25 }, (_, i) => `logs/part-${String(i).padStart(2, '0')}.txt`);
        const dataKeys = ['data/B', 'data/Z', 'data/a', 'data/~', 'data/é'];
        const all = [...logKeys, ...dataKeys, 'top.txt'];
        for (const key of [...all].reverse()) await store.put(key, key);

        const logs = await listAll(store, { prefix: 'logs/', limit: 10 });
        expect(logs.pages.map((p) => p.items.length)).toEqual([10, 10, 5]);
        expect(logs.pages.at(-1)?.cursor).toBeUndefined();
        expect(logs.items.map((i) => i.key)).toEqual(logKeys);
        expect(logs.items[0]).toMatchObject({ key: logKeys[0], size: Buffer.byteLength(logKeys[0]!) });
        expect(logs.items[0]?.etag).toEqual(expect.any(String));
        expect(logs.items[0]?.lastModified).toBeInstanceOf(Date);

        expect((await store.list({ prefix: 'data/' })).items.map((i) => i.key)).toEqual(dataKeys);
        expect((await store.list({ prefix: 'logs/part-1' })).items.map((i) => i.key)).toEqual(
          logKeys.slice(10, 20),
        );
        const everything = await store.list();
        expect(everything.cursor).toBeUndefined();
        expect(everything.items.map((i) => i.key)).toEqual(
          [...all].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
        );
        expect(await store.list({ prefix: 'nothing/' })).toEqual({ items: [] });
      },
      timeout,
    );

    it(
      'a presigned GET URL serves the object to a plain fetch()',
      async () => {
        const { store } = await setup();
        const data = randomBytes(100_000);
        await store.put('shared/report.bin', data);

        const url = await store.presign('shared/report.bin', { method: 'GET', expiresInSeconds: 300 });
        const response = await fetch(url);

        expect(response.status).toBe(200);
        expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(data));
      },
      timeout,
    );

    it(
      'a presigned PUT URL accepts an upload from a plain fetch()',
      async () => {
        const { store } = await setup();
        const data = randomBytes(50_000);

        const url = await store.presign('uploads/in.bin', { method: 'PUT', expiresInSeconds: 300 });
        const response = await fetch(url, { method: 'PUT', body: data });

        expect(response.ok).toBe(true);
        expect(sha256(await readAll((await store.get('uploads/in.bin')).body))).toBe(sha256(data));
      },
      timeout,
    );

    it(
      'rejects unsafe keys on every call with ValidationError',
      async () => {
        const { store } = await setup();
        const unsafe = [
          '../x',
          'a/../../x',
          'a//b',
          '/abs',
          'a/./b',
          'a/',
          '',
          'a\\b',
          'nul\u0000',
          'k'.repeat(1025),
        ];

        for (const key of unsafe) {
          for (const call of [
            () => store.put(key, 'x'),
            () => store.get(key),
            () => store.head(key),
            () => store.delete(key),
            () => store.presign(key, { method: 'GET', expiresInSeconds: 60 }),
          ]) {
            await expect(call(), `${JSON.stringify(key)}: ${call.toString()}`).rejects.toBeInstanceOf(
              ValidationError,
            );
          }
        }
        expect(await store.list()).toEqual({ items: [] });
      },
      timeout,
    );

    it(
      'rejects out-of-range list limits and presign expiries with ValidationError',
      async () => {
        const { store } = await setup();

        for (const call of [
          () => store.list({ limit: 0 }),
          () => store.list({ limit: 1001 }),
          () => store.presign('a.txt', { method: 'GET', expiresInSeconds: 0 }),
          () => store.presign('a.txt', { method: 'GET', expiresInSeconds: 604_801 }),
        ]) {
          await expect(call(), call.toString()).rejects.toBeInstanceOf(ValidationError);
        }
      },
      timeout,
    );

    it(
      'every call rejects with AbortedError when its signal is already aborted, and writes nothing',
      async () => {
        const { store } = await setup();
        await store.put('abort/kept.txt', 'kept');
        const aborted = AbortSignal.abort();

        await expect(store.put('abort/new.txt', 'x', {}, aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(store.put('abort/kept.txt', 'changed', {}, aborted)).rejects.toBeInstanceOf(
          AbortedError,
        );
        await expect(store.get('abort/kept.txt', aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(store.head('abort/kept.txt', aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(store.delete('abort/kept.txt', aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(store.list({}, aborted)).rejects.toBeInstanceOf(AbortedError);
        await expect(
          store.presign('abort/kept.txt', { method: 'GET', expiresInSeconds: 60 }, aborted),
        ).rejects.toBeInstanceOf(AbortedError);

        expect((await store.list()).items.map((i) => i.key)).toEqual(['abort/kept.txt']);
        expect((await readAll((await store.get('abort/kept.txt')).body)).toString()).toBe('kept');
      },
      timeout,
    );

    it(
      'aborting a streamed put rejects promptly with AbortedError and leaves no object',
      async () => {
        const { store } = await setup();
        const body = new PassThrough();
        const stop = new AbortController();
        const putting = store.put('abort/stream.bin', body, {}, stop.signal);
        putting.catch(() => {}); // asserted below
        body.write(randomBytes(64 * 1024));

        await sleep(100);
        stop.abort();

        // The body never ends, so only the abort can settle this put.
        await expect(settlesWithin(putting, 10_000, 'aborted put')).rejects.toBeInstanceOf(AbortedError);
        body.destroy();
        expect(await store.head('abort/stream.bin')).toBeUndefined();
        expect(await store.list()).toEqual({ items: [] });
      },
      timeout,
    );
  });
}

/** Follows cursors to the end of a listing, keeping each page. */
async function listAll(
  store: BlobStore,
  options: ListBlobsOptions,
): Promise<{ pages: BlobPage[]; items: BlobPage['items'] }> {
  const pages: BlobPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    pages.push(page);
    cursor = page.cursor;
  } while (cursor !== undefined && pages.length < 100);
  return { pages, items: pages.flatMap((p) => p.items) };
}
