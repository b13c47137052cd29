import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AbortedError, NotFoundError, throwIfAborted } from '../../errors.ts';
import {
  assertBlobKey,
  type BlobBody,
  type BlobInfo,
  type BlobObject,
  type BlobPage,
  type BlobStore,
  blobKeyProblem,
  type ListBlobsOptions,
  type PresignOptions,
  type PutBlobOptions,
} from '../../ports/blob-store.ts';
import { checkBlobList, checkBlobPresign, checkBlobPut } from '../../ports/blob-validation.ts';
import { integerProblem, throwIfProblems } from '../../ports/validation.ts';
import { translateAwsError } from './translate-aws-error.ts';

export interface S3BlobStoreOptions {
  /** Your client; against emulators set `endpoint` and `forcePathStyle: true`. */
  readonly client: S3Client;
  readonly bucket: string;
  /** Every key lives under this prefix (a `/` is added when missing); `list` strips it again. */
  readonly prefix?: string;
  /** Multipart part size; bodies up to one part go in a single PUT. 5 MiB–5 GiB, default 8 MiB. */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once, default 4. */
  readonly queueSize?: number;
}

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;
// 8 MiB: fewer requests than S3's 5 MiB minimum, and below fauxqs's 11 MiB request limit.
const DEFAULT_PART = 8 * MiB;

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/** The body as lib-storage takes it, and how many bytes went through (streams are counted on the way). */
function countBytes(body: BlobBody): { body: Uint8Array | Readable; size: () => number } {
  if (typeof body === 'string') {
    const bytes = Buffer.from(body);
    return { body: bytes, size: () => bytes.byteLength };
  }
  if (body instanceof Uint8Array) return { body, size: () => body.byteLength };
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.byteLength;
      callback(null, chunk);
    },
  });
  // A failing source destroys the counter with its error, which fails the upload.
  pipeline(body, counter).catch(() => {});
  return { body: counter, size: () => size };
}

/**
 * `BlobStore` on Amazon S3. `put` goes through `@aws-sdk/lib-storage` (multipart above one
 * part, so bodies of any size and unknown-length streams work); `ifAbsent` sends
 * `If-None-Match: *` on the PUT or on CompleteMultipartUpload, and S3's 412 becomes
 * `ConditionFailedError`.
 *
 * Emulator note: fauxqs ignores `If-None-Match` on PUT (the second write silently wins), so
 * `ifAbsent` is only enforced on real S3.
 *
 * @example
 * ```ts
 * const blobs = new S3BlobStore({ client: new S3Client({}), bucket: 'artifacts', prefix: 'builds/' });
 * await blobs.put('42/log.txt', fs.createReadStream(logPath), { contentType: 'text/plain' });
 * const url = await blobs.presign('42/log.txt', { method: 'GET', expiresInSeconds: 900 });
 * ```
 */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(options: S3BlobStoreOptions) {
    const problems = [
      options.bucket ? undefined : 'bucket is required',
      options.partSizeBytes === undefined
        ? undefined
        : integerProblem('partSizeBytes', options.partSizeBytes, MIN_PART, MAX_PART),
      options.queueSize === undefined ? undefined : integerProblem('queueSize', options.queueSize, 1, 64),
    ];
    let prefix = options.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    if (prefix !== '') problems.push(blobKeyProblem(prefix.slice(0, -1)));
    throwIfProblems('invalid S3BlobStore options', problems);
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = prefix;
    this.#partSize = options.partSizeBytes ?? DEFAULT_PART;
    this.#queueSize = options.queueSize ?? 4;
  }

  async put(
    key: string,
    body: BlobBody,
    options: PutBlobOptions = {},
    signal?: AbortSignal,
  ): Promise<BlobInfo> {
    const checked = checkBlobPut(key, body, options);
    throwIfAborted(signal);
    const abortController = new AbortController();
    const onAbort = () => abortController.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const counted = countBytes(body);
    const upload = new Upload({
      client: this.#client,
      params: {
        Bucket: this.#bucket,
        Key: this.#prefix + key,
        Body: counted.body,
        ContentType: checked.contentType,
        Metadata: { ...checked.metadata },
        // lib-storage copies params onto PutObject and CompleteMultipartUpload, both of which
        // carry If-None-Match; S3 answers 412 PreconditionFailed when the key exists.
        IfNoneMatch: checked.ifAbsent ? '*' : undefined,
      },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      abortController,
    });
    let etag: string;
    try {
      etag = unquote((await upload.done()).ETag);
    } catch (err) {
      if (typeof counted.body === 'object' && 'destroy' in counted.body) counted.body.destroy();
      throw this.#translate(err, 'PutObject', key, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    // HEAD for what S3 stored (size of a stream, server time); a writer racing us may have
    // replaced or deleted it meanwhile, then our own write is described as best we can.
    const stored = await this.head(key, signal);
    if (stored && stored.etag === etag) return stored;
    return {
      key,
      size: counted.size(),
      etag,
      lastModified: new Date(),
      contentType: checked.contentType ?? 'application/octet-stream',
      metadata: { ...checked.metadata },
    };
  }

  async get(key: string, signal?: AbortSignal): Promise<BlobObject> {
    assertBlobKey(key);
    throwIfAborted(signal);
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
        {
          abortSignal: signal,
        },
      );
      const body = out.Body as Readable | undefined;
      if (!body) throw new NotFoundError(key);
      if (signal) {
        // The request's abort ends with the response headers; the body stream is ours to stop.
        const onAbort = () => body.destroy(new AbortedError({ cause: signal.reason }));
        signal.addEventListener('abort', onAbort, { once: true });
        body.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      return { info: this.#info(key, out), body };
    } catch (err) {
      throw this.#translate(err, 'GetObject', key, signal);
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    throwIfAborted(signal);
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
        { abortSignal: signal },
      );
      return this.#info(key, out);
    } catch (err) {
      const translated = this.#translate(err, 'HeadObject', key, signal);
      // HEAD has no body, so a missing bucket looks like a missing key; both answer undefined.
      if (translated instanceof NotFoundError) return undefined;
      throw translated;
    }
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    assertBlobKey(key);
    throwIfAborted(signal);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }), {
        abortSignal: signal,
      });
    } catch (err) {
      throw this.#translate(err, 'DeleteObject', key, signal);
    }
  }

  async list(options: ListBlobsOptions = {}, signal?: AbortSignal): Promise<BlobPage> {
    const { prefix, limit, cursor } = checkBlobList(options);
    throwIfAborted(signal);
    try {
      const out = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#prefix + prefix || undefined,
          MaxKeys: limit,
          ContinuationToken: cursor,
        }),
        { abortSignal: signal },
      );
      const items = (out.Contents ?? []).map(
        (object): BlobInfo => ({
          key: (object.Key ?? '').slice(this.#prefix.length),
          size: object.Size ?? 0,
          etag: unquote(object.ETag),
          lastModified: object.LastModified ?? new Date(0),
          metadata: {},
        }),
      );
      // S3 already answers in UTF-8 byte order, so this is a no-op there; fauxqs sorts with
      // localeCompare ('a' before 'B'), and other S3-compatible stores may too. It fixes the
      // order within a page only: on such a store, pages of mixed-case keys can still interleave.
      items.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
      return out.IsTruncated && out.NextContinuationToken
        ? { items, cursor: out.NextContinuationToken }
        : { items };
    } catch (err) {
      throw this.#translate(err, 'ListObjectsV2', prefix, signal);
    }
  }

  async presign(key: string, options: PresignOptions, signal?: AbortSignal): Promise<string> {
    checkBlobPresign(key, options);
    throwIfAborted(signal);
    const input = { Bucket: this.#bucket, Key: this.#prefix + key };
    const command = options.method === 'GET' ? new GetObjectCommand(input) : new PutObjectCommand(input);
    try {
      return await getSignedUrl(this.#client, command, { expiresIn: options.expiresInSeconds });
    } catch (err) {
      throw this.#translate(err, 'presign', key, signal);
    }
  }

  #info(key: string, out: Omit<HeadObjectCommandOutput, '$metadata'>): BlobInfo {
    return {
      key,
      size: out.ContentLength ?? 0,
      etag: unquote(out.ETag),
      lastModified: out.LastModified ?? new Date(0),
      ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
      metadata: { ...out.Metadata },
    };
  }

  #translate(err: unknown, operation: string, key: string, signal: AbortSignal | undefined) {
    return translateAwsError(err, { operation, key, container: this.#bucket, signal });
  }
}
