import { Readable } from 'node:stream';
import { type BlobBody, type BlobInfo, type BlobObject, type BlobStore, NotFoundError } from '@spotjobs/core';
import type { BlobStoreForBucket } from '../../src/staging/stage-inputs.ts';

/** An in-memory bucket for staging unit tests; `headSize` can lie, as an object replaced between HEAD and GET does. */
export class MemoryBucket implements BlobStore {
  readonly objects = new Map<string, Buffer>();
  readonly gets: string[] = [];
  readonly headSize = new Map<string, number>();

  async put(key: string, body: BlobBody): Promise<BlobInfo> {
    const bytes = body instanceof Readable ? Buffer.concat(await body.toArray()) : Buffer.from(body);
    this.objects.set(key, bytes);
    return this.#info(key, bytes);
  }

  async get(key: string): Promise<BlobObject> {
    this.gets.push(key);
    const bytes = this.objects.get(key);
    if (!bytes) throw new NotFoundError(key);
    return { info: this.#info(key, bytes), body: Readable.from([bytes]) };
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const bytes = this.objects.get(key);
    if (!bytes) return undefined;
    const info = this.#info(key, bytes);
    return { ...info, size: this.headSize.get(key) ?? info.size };
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list() {
    return { items: [...this.objects.entries()].map(([key, bytes]) => this.#info(key, bytes)) };
  }

  async presign(): Promise<string> {
    throw new Error('not used');
  }

  #info(key: string, bytes: Buffer): BlobInfo {
    return { key, size: bytes.length, etag: `etag-${bytes.length}`, lastModified: new Date(0), metadata: {} };
  }
}

/** Buckets by name, created on first use. */
export function memoryBuckets(): { blobsFor: BlobStoreForBucket; bucket(name: string): MemoryBucket } {
  const buckets = new Map<string, MemoryBucket>();
  const bucket = (name: string) => {
    let found = buckets.get(name);
    if (!found) {
      found = new MemoryBucket();
      buckets.set(name, found);
    }
    return found;
  };
  return { blobsFor: bucket, bucket };
}
