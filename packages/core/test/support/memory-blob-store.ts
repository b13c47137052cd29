import { Readable } from 'node:stream';
import { NotFoundError } from '../../src/errors.ts';
import type {
  BlobBody,
  BlobInfo,
  BlobObject,
  BlobPage,
  BlobStore,
  ListBlobsOptions,
  PutBlobOptions,
} from '../../src/ports/blob-store.ts';

/** One call the runner made, for assertions (the point: jobs without checkpoints make none). */
export interface BlobCall {
  readonly op: 'put' | 'get' | 'list' | 'delete';
  readonly key: string;
}

/** An in-memory `BlobStore` for runner unit tests (string and byte bodies only). */
export class MemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, { body: Buffer; info: BlobInfo }>();
  readonly calls: BlobCall[] = [];

  async put(key: string, body: BlobBody, options: PutBlobOptions = {}): Promise<BlobInfo> {
    this.calls.push({ op: 'put', key });
    await Promise.resolve();
    if (body instanceof Readable) throw new Error('MemoryBlobStore takes no streams');
    const bytes = Buffer.from(body);
    const info: BlobInfo = {
      key,
      size: bytes.length,
      etag: String(bytes.length),
      lastModified: new Date(0),
      contentType: options.contentType,
      metadata: { ...(options.metadata ?? {}) },
    };
    this.objects.set(key, { body: bytes, info });
    return info;
  }

  async get(key: string): Promise<BlobObject> {
    this.calls.push({ op: 'get', key });
    await Promise.resolve();
    const stored = this.objects.get(key);
    if (!stored) throw new NotFoundError(key);
    return { info: stored.info, body: Readable.from([stored.body]) };
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    return this.objects.get(key)?.info;
  }

  async delete(key: string): Promise<void> {
    this.calls.push({ op: 'delete', key });
    await Promise.resolve();
    this.objects.delete(key);
  }

  async list(options: ListBlobsOptions = {}): Promise<BlobPage> {
    this.calls.push({ op: 'list', key: options.prefix ?? '' });
    await Promise.resolve();
    const items = [...this.objects.values()]
      .map((o) => o.info)
      .filter((info) => info.key.startsWith(options.prefix ?? ''))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items };
  }

  async presign(): Promise<string> {
    throw new Error('not used by the runner');
  }

  /** The JSON bodies stored under `prefix`, by key. */
  json(prefix = ''): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, { body }] of this.objects)
      if (key.startsWith(prefix)) out[key] = JSON.parse(body.toString());
    return out;
  }
}
