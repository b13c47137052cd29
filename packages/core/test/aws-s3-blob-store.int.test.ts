import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ensureS3Bucket, S3BlobStore } from '../src/adapters/aws/index.ts';
import { AbortedError, NotFoundError, ValidationError } from '../src/errors.ts';
import { awsTestClientConfig } from '../src/testing/emulators.ts';

const client = new S3Client({ ...awsTestClientConfig, endpoint: inject('emulators').s3 });
const bucket = `blobs-${randomUUID().slice(0, 8)}`;
const MiB = 1024 * 1024;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function freshStore(options: { partSizeBytes?: number } = {}) {
  await ensureS3Bucket(client, bucket);
  return new S3BlobStore({ client, bucket, prefix: `t-${randomUUID().slice(0, 8)}`, ...options });
}

afterAll(() => client.destroy());

describe('S3BlobStore on fauxqs', () => {
  it('round-trips a 20 MiB body through multipart upload, above the 11 MiB single-request limit', async () => {
    const store = await freshStore({ partSizeBytes: 5 * MiB });
    const body = randomBytes(20 * MiB);

    const info = await store.put('big/blob.bin', body, { contentType: 'application/x-test' });
    const got = await store.get('big/blob.bin');
    const bytes = await buffer(got.body);
    await store.delete('big/blob.bin'); // fauxqs keeps objects in RAM

    expect(info.size).toBe(20 * MiB);
    expect(info.etag).toMatch(/-4$/); // four parts
    expect(got.info.size).toBe(20 * MiB);
    expect(got.info.contentType).toBe('application/x-test');
    expect(sha256(bytes)).toBe(sha256(body));
  });

  it('uploads a stream of unknown length and reports its size', async () => {
    const store = await freshStore({ partSizeBytes: 5 * MiB });
    const chunks = Array.from({ length: 12 }, () => randomBytes(MiB));

    const info = await store.put('stream.bin', Readable.from(chunks));
    const bytes = await buffer((await store.get('stream.bin')).body);
    await store.delete('stream.bin');

    expect(info.size).toBe(12 * MiB);
    expect(sha256(bytes)).toBe(sha256(Buffer.concat(chunks)));
  });

  it('stores metadata (names lower-cased, as S3 keeps them) and content type, and head agrees with put', async () => {
    const store = await freshStore();

    const info = await store.put('meta.json', '{"a":1}', {
      contentType: 'application/json',
      metadata: { owner: 'team-a', 'Build-Id': '42' },
    });
    const head = await store.head('meta.json');

    expect(head).toEqual(info);
    expect(info).toMatchObject({
      key: 'meta.json',
      size: 7,
      contentType: 'application/json',
      metadata: { owner: 'team-a', 'build-id': '42' },
    });
  });

  it('answers undefined for head, NotFoundError for get and success for delete of a missing key', async () => {
    const store = await freshStore();

    expect(await store.head('missing.txt')).toBeUndefined();
    await expect(store.get('missing.txt')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.delete('missing.txt')).resolves.toBeUndefined();
  });

  it('lists keys in byte order, page by page, relative to the store prefix', async () => {
    const store = await freshStore();
    const other = await freshStore(); // a sibling prefix in the same bucket must not show up
    const keys = ['a/1', 'a/2', 'a/3', 'b/1', 'a/10', 'a/Z'];
    for (const key of keys) await store.put(key, key);
    await other.put('a/1', 'other');

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ prefix: 'a/', limit: 2, cursor });
      pages.push(page.items.map((item) => item.key));
      cursor = page.cursor;
    } while (cursor);
    const all = await store.list();

    expect(pages).toEqual([['a/1', 'a/10'], ['a/2', 'a/3'], ['a/Z']]);
    expect(all.items.map((item) => item.key)).toEqual(['a/1', 'a/10', 'a/2', 'a/3', 'a/Z', 'b/1']);
    expect(all.cursor).toBeUndefined();
    expect(all.items[0]).toMatchObject({ size: 3, etag: expect.any(String), lastModified: expect.any(Date) });
  });

  it('presigns GET and PUT URLs that work without credentials', async () => {
    const store = await freshStore();
    await store.put('presigned.txt', 'hello');

    const getUrl = await store.presign('presigned.txt', { method: 'GET', expiresInSeconds: 60 });
    const putUrl = await store.presign('uploaded.txt', { method: 'PUT', expiresInSeconds: 60 });
    const fetched = await fetch(getUrl);
    const uploaded = await fetch(putUrl, { method: 'PUT', body: 'from a browser' });

    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe('hello');
    expect(uploaded.status).toBe(200);
    expect((await buffer((await store.get('uploaded.txt')).body)).toString()).toBe('from a browser');
  });

  // The rules themselves are tested once, in ports-blob-validation.test.ts: here, that every
  // call applies them before any request, and S3BlobStore's own options.
  it('rejects unsafe keys, metadata S3 cannot round-trip and bad options before any request', async () => {
    const store = await freshStore();

    for (const key of ['a/../b', 'lone\uD800']) {
      await expect(store.put(key, 'x'), key).rejects.toBeInstanceOf(ValidationError);
      await expect(store.get(key), key).rejects.toBeInstanceOf(ValidationError);
      await expect(store.head(key), key).rejects.toBeInstanceOf(ValidationError);
      await expect(store.delete(key), key).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(store.put('k', 'x', { metadata: { name: 'ü' } })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.put('k', 42 as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(store.list({ limit: 1001 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.list({ prefix: '../' })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.presign('k', { method: 'GET', expiresInSeconds: 604_801 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(() => new S3BlobStore({ client, bucket, partSizeBytes: MiB })).toThrow(ValidationError);
    expect((await store.list()).items).toEqual([]);
  });

  it('aborts an upload and a download through the signal', async () => {
    const store = await freshStore({ partSizeBytes: 5 * MiB });
    await store.put('abort-read.bin', randomBytes(2 * MiB));
    const uploadAbort = new AbortController();
    const downloadAbort = new AbortController();

    const upload = store.put('abort.bin', randomBytes(15 * MiB), {}, uploadAbort.signal).catch((err) => err);
    uploadAbort.abort();
    const { body } = await store.get('abort-read.bin', downloadAbort.signal);
    downloadAbort.abort();

    expect(await upload).toBeInstanceOf(AbortedError);
    await expect(buffer(body)).rejects.toBeInstanceOf(AbortedError);
    expect(await store.head('abort.bin')).toBeUndefined();
    await expect(store.head('x', AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
  });

  it('names a missing bucket in NotFoundError', async () => {
    const store = new S3BlobStore({ client, bucket: `missing-${randomUUID().slice(0, 8)}` });

    const failure = await store.get('k').catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(NotFoundError);
    expect((failure as NotFoundError).key).toMatch(/^missing-/);
  });
});
