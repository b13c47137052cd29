import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { ensureS3Bucket, S3BlobStore } from '@spotjobs/core/aws';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDataset } from '../src/datasets/dataset.ts';
import { blobStoreBackend, type DatasetBackend, datasetSuite } from './support/dataset-suite.ts';
import { uniqueId } from './support/runtime.ts';

const client = new S3Client({ ...awsTestClientConfig, endpoint: inject('emulators').s3 });
const bucket = `datasets-${randomUUID().slice(0, 8)}`;
const blobs = new S3BlobStore({ client, bucket });

await ensureS3Bucket(client, bucket);
afterAll(async () => {
  // fauxqs keeps objects in memory: give it back.
  let cursor: string | undefined;
  do {
    const page = await blobs.list(cursor ? { cursor } : {});
    await Promise.all(page.items.map((item) => blobs.delete(item.key)));
    cursor = page.cursor;
  } while (cursor);
  client.destroy();
});

const bucketStore = (name: string) => (name === bucket ? blobs : undefined);

async function s3Backend(): Promise<DatasetBackend> {
  return blobStoreBackend(bucket, blobs, uniqueId('s3-'));
}

datasetSuite('S3 (S3BlobStore on the fauxqs emulator, real SDK)', s3Backend);

describe('S3 datasets', () => {
  it("reads Aye-Aye's s3+gz engine URLs and stores a content type per format", async () => {
    const key = `${uniqueId('eng-')}/table`;
    await openDataset(`s3+gz+csv://${bucket}/${key}`, { bucketStore }).write([{ a: '1' }]);
    await openDataset(`s3://${bucket}/${key}.ndjson`, { bucketStore }).write([{ a: 1 }]);

    const rows = [];
    for await (const row of openDataset(`s3://${bucket}/${key}`, {
      bucketStore,
      format: 'csv',
      compression: 'gzip',
    }))
      rows.push(row);

    expect(rows).toEqual([{ a: '1' }]);
    expect((await blobs.head(key))?.contentType).toBe('application/gzip');
    expect((await blobs.head(`${key}.ndjson`))?.contentType).toBe('application/x-ndjson');
  });

  it('uploads a dataset larger than one part through multipart, streaming', async () => {
    const key = `${uniqueId('big-')}/rows.ndjson`;
    const dataset = openDataset(`s3://${bucket}/${key}`, { bucketStore });
    const padding = 'x'.repeat(1000);
    async function* rows() {
      for (let i = 0; i < 12_000; i++) yield { i, padding }; // about 12 MiB, above fauxqs's 11 MiB request limit
    }

    const summary = await dataset.write(rows());
    let count = 0;
    for await (const _row of dataset.records()) count++;
    await blobs.delete(key);

    expect(summary.records).toBe(12_000);
    expect(summary.bytes).toBeGreaterThan(11 * 1024 * 1024);
    expect(count).toBe(12_000);
  });

  it('reports a missing bucket as an error from the store, not a hang', async () => {
    const missing = new S3BlobStore({ client, bucket: `absent-${randomUUID().slice(0, 8)}` });
    const dataset = openDataset('s3://absent/rows.ndjson', { bucketStore: () => missing });

    await expect(dataset.write([{ a: 1 }])).rejects.toThrow();
    await expect(dataset.exists()).resolves.toBe(false);
  });
});
