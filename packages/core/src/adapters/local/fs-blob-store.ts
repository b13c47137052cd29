import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortedError,
  BackendError,
  ConditionFailedError,
  isAbortError,
  NotFoundError,
  SpotjobsError,
  throwIfAborted,
  ValidationError,
} from '../../errors.ts';
import type {
  BlobBody,
  BlobInfo,
  BlobObject,
  BlobPage,
  BlobStore,
  ListBlobsOptions,
  PresignOptions,
  PutBlobOptions,
} from '../../ports/blob-store.ts';
import { assertBlobKey } from '../../ports/blob-store.ts';
import {
  type CheckedPutOptions,
  checkBlobList,
  checkBlobPresign,
  checkBlobPut,
} from '../../ports/blob-validation.ts';
import { assertNamespace, normaliseBaseUrl } from './blob-input.ts';
import { decodeCursor, encodeCursor, prefixRange, startAfter } from './byte-range.ts';
import { syncDirectory, writeDurably } from './durable-file.ts';
import type { LocalContext } from './local-context.ts';

/** Options of `LocalStore.blobs`. */
export interface FsBlobStoreOptions {
  /** A separate space of keys, as a bucket is (default `default`). */
  readonly namespace?: string;
  /** Where `createBlobRequestHandler` is mounted, e.g. `http://127.0.0.1:8080/blobs`; needed by `presign`. */
  readonly baseUrl?: string;
}

/** What checking a presigned request found. */
export type PresignedCheck = 'valid' | 'expired' | 'invalid';

/** Sub-directories of the data dir that hold blob content (created by `openLocalStore`). */
export const BLOB_DIRS = { objects: join('blobs', 'objects'), temp: join('blobs', 'tmp') } as const;

const OPEN_RETRIES = 5;
const DEFAULT_SWEEP_AGE_MS = 3_600_000;

interface BlobRow {
  readonly key: Uint8Array;
  readonly file: string;
  readonly size: number;
  readonly etag: string;
  readonly content_type: string | null;
  readonly metadata: string;
  readonly last_modified: number;
}

const COLUMNS = 'key, file, size, etag, content_type, metadata, last_modified';
const SQL = {
  get: `SELECT ${COLUMNS} FROM blobs WHERE namespace = ? AND key = ?`,
  file: 'SELECT file FROM blobs WHERE namespace = ? AND key = ?',
  upsert: `INSERT INTO blobs (namespace, key, file, size, etag, content_type, metadata, last_modified)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (namespace, key) DO UPDATE SET file = excluded.file, size = excluded.size,
             etag = excluded.etag, content_type = excluded.content_type, metadata = excluded.metadata,
             last_modified = excluded.last_modified`,
  delete: 'DELETE FROM blobs WHERE namespace = ? AND key = ? RETURNING file',
  list: `SELECT ${COLUMNS} FROM blobs WHERE namespace = ? AND key >= ? ORDER BY key LIMIT ?`,
  listBounded: `SELECT ${COLUMNS} FROM blobs WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
  referenced: 'SELECT file FROM blobs',
} as const;

/**
 * `BlobStore` on the local file system. Each put writes a new file under a random name (temp
 * file, fsync, rename, fsync of the directory), then points the key at it in SQLite in one
 * transaction, and only then removes the file it replaced:
 *
 * ```
 * put:  write tmp/f2 ─ fsync ─ rename objects/f2 ─ fsync dir ─ COMMIT key→f2 ─ unlink objects/f1
 * get:            SELECT key→f1 ─ open objects/f1 (ENOENT: f1 was just replaced, look again)
 * ```
 *
 * A reader therefore sees the old object or the new one, never a part, and a key maps to one
 * immutable file, so its metadata always matches its bytes. Files are named by a random id, not
 * by key, so no key can reach outside the data dir. A crash between rename and commit leaves an
 * unreferenced file that `sweep` removes. Obtain one from `LocalStore.blobs`.
 *
 * @example
 * ```ts
 * const blobs = store.blobs({ namespace: 'artifacts', baseUrl: 'http://127.0.0.1:8080/blobs' });
 * await blobs.put('results/42.json', JSON.stringify(result), { contentType: 'application/json' });
 * const url = await blobs.presign('results/42.json', { method: 'GET', expiresInSeconds: 900 });
 * ```
 */
export class FsBlobStore implements BlobStore {
  readonly namespace: string;
  /** The normalised base URL, or `undefined` when none was given. */
  readonly baseUrl: string | undefined;
  readonly #context: LocalContext;
  readonly #objectsDir: string;
  readonly #tempDir: string;

  constructor(context: LocalContext, options: FsBlobStoreOptions = {}) {
    const namespace = options.namespace ?? 'default';
    assertNamespace(namespace);
    this.namespace = namespace;
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.#context = context;
    this.#objectsDir = join(context.dataDir, BLOB_DIRS.objects);
    this.#tempDir = join(context.dataDir, BLOB_DIRS.temp);
  }

  async put(
    key: string,
    body: BlobBody,
    options: PutBlobOptions = {},
    signal?: AbortSignal,
  ): Promise<BlobInfo> {
    const checked = checkBlobPut(key, body, options);
    throwIfAborted(signal);
    this.#context.assertOpen();
    // Until the write reads it, a stream that fails would throw its 'error' event at the process;
    // the write sees the failure when it iterates, so this listener only keeps it from escaping.
    const swallow = () => {};
    if (body instanceof Readable) body.on('error', swallow);
    try {
      return await this.#put(key, body, checked, signal);
    } finally {
      if (body instanceof Readable) body.off('error', swallow);
    }
  }

  async #put(
    key: string,
    body: BlobBody,
    options: CheckedPutOptions,
    signal: AbortSignal | undefined,
  ): Promise<BlobInfo> {
    const file = `${randomBytes(16).toString('hex')}.blob`;
    const tempPath = join(this.#tempDir, file);
    const finalPath = join(this.#objectsDir, file);
    let published = false;
    let outcome: { info: BlobInfo; replaced: string | undefined } | 'exists';
    try {
      const written = await writeDurably(tempPath, body, signal);
      throwIfAborted(signal);
      await rename(tempPath, finalPath);
      published = true;
      await syncDirectory(this.#objectsDir);
      const info: BlobInfo = {
        key,
        size: written.size,
        etag: written.md5,
        lastModified: new Date(this.#context.clock.now()),
        ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
        metadata: options.metadata,
      };
      const keyBytes = Buffer.from(key, 'utf8');
      outcome = this.#context.run(`put ${key}`, (db) =>
        db.transaction(() => {
          const existing = db.statement(SQL.file).get(this.namespace, keyBytes) as
            | { file: string }
            | undefined;
          if (existing && options.ifAbsent) return 'exists' as const;
          db.statement(SQL.upsert).run(
            this.namespace,
            keyBytes,
            file,
            info.size,
            info.etag,
            info.contentType ?? null,
            JSON.stringify(options.metadata),
            info.lastModified.getTime(),
          );
          return { info, replaced: existing?.file };
        }),
      );
    } catch (err) {
      await removeQuietly(published ? finalPath : tempPath);
      throw translateFsError(err, `put ${key}`, signal);
    }
    if (outcome === 'exists') {
      await removeQuietly(finalPath);
      throw new ConditionFailedError(`${this.namespace}/${key}`);
    }
    if (outcome.replaced) await removeQuietly(join(this.#objectsDir, outcome.replaced));
    return outcome.info;
  }

  async get(key: string, signal?: AbortSignal): Promise<BlobObject> {
    assertBlobKey(key);
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      const row = this.#row(key);
      if (!row) throw new NotFoundError(`${this.namespace}/${key}`);
      let body: Readable;
      try {
        const handle = await open(join(this.#objectsDir, row.file), 'r');
        body = handle.createReadStream();
      } catch (err) {
        // The object was replaced or deleted between the lookup and the open: look again.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < OPEN_RETRIES) continue;
        throw translateFsError(err, `get ${key}`, signal);
      }
      if (signal) cancelOnAbort(body, signal);
      return { info: toInfo(row), body };
    }
  }

  async head(key: string, signal?: AbortSignal): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    throwIfAborted(signal);
    const row = this.#row(key);
    return row ? toInfo(row) : undefined;
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    assertBlobKey(key);
    throwIfAborted(signal);
    const row = this.#context.run(
      `delete ${key}`,
      (db) =>
        db.statement(SQL.delete).get(this.namespace, Buffer.from(key, 'utf8')) as
          | { file: string }
          | undefined,
    );
    if (row) await removeQuietly(join(this.#objectsDir, row.file));
  }

  async list(options: ListBlobsOptions = {}, signal?: AbortSignal): Promise<BlobPage> {
    const { prefix, limit, cursor } = checkBlobList(options);
    let range = prefixRange(prefix);
    if (cursor !== undefined) range = startAfter(range, decodeCursor(cursor));
    throwIfAborted(signal);
    const rows = this.#context.run('list', (db) =>
      range.hi
        ? db.statement(SQL.listBounded).all(this.namespace, range.lo, range.hi, limit + 1)
        : db.statement(SQL.list).all(this.namespace, range.lo, limit + 1),
    ) as unknown as BlobRow[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const items = page.map(toInfo);
    return rows.length > limit && last ? { items, cursor: encodeCursor(last.key) } : { items };
  }

  /**
   * A URL under `baseUrl` that `createBlobRequestHandler` serves for `method` on `key` until it
   * expires: `${baseUrl}/<namespace>/<key>?method=..&expires=<epoch s>&sig=<HMAC-SHA256>`.
   */
  async presign(key: string, options: PresignOptions, signal?: AbortSignal): Promise<string> {
    checkBlobPresign(key, options);
    throwIfAborted(signal);
    if (this.baseUrl === undefined) {
      throw new ValidationError('cannot presign', [
        'this FsBlobStore has no baseUrl: pass one to LocalStore.blobs',
      ]);
    }
    // Rounded up, so a URL is valid for at least `expiresInSeconds`.
    const expires = Math.ceil(this.#context.clock.now() / 1000) + options.expiresInSeconds;
    const sig = this.#context.signer.sign({
      method: options.method,
      namespace: this.namespace,
      key,
      expires,
    });
    const path = key.split('/').map(encodeURIComponent).join('/');
    const query = new URLSearchParams({ method: options.method, expires: String(expires), sig });
    return `${this.baseUrl}/${encodeURIComponent(this.namespace)}/${path}?${query}`;
  }

  /** Checks the parts of a presigned URL against this store's signing key and clock. */
  checkPresigned(method: string, key: string, expires: string, sig: string): PresignedCheck {
    if ((method !== 'GET' && method !== 'PUT') || !/^\d{1,12}$/.test(expires)) return 'invalid';
    const grant = { method, namespace: this.namespace, key, expires: Number(expires) } as const;
    if (!this.#context.signer.verify(grant, sig)) return 'invalid';
    return this.#context.clock.now() >= grant.expires * 1000 ? 'expired' : 'valid';
  }

  /**
   * Removes what crashes leave behind: temp files, and object files no key points to, that are
   * older than `olderThanMs` (default 1 h; younger ones may belong to a put in progress in
   * another process). Answers how many files it removed.
   */
  async sweep(options: { readonly olderThanMs?: number } = {}, signal?: AbortSignal): Promise<number> {
    const cutoff = Date.now() - (options.olderThanMs ?? DEFAULT_SWEEP_AGE_MS);
    const referenced = new Set(
      this.#context.run('sweep', (db) =>
        (db.statement(SQL.referenced).all() as unknown as { file: string }[]).map((row) => row.file),
      ),
    );
    let removed = 0;
    for (const [dir, isGarbage] of [
      [this.#tempDir, () => true],
      [this.#objectsDir, (file: string) => !referenced.has(file)],
    ] as const) {
      for (const file of await readdir(dir)) {
        throwIfAborted(signal);
        const path = join(dir, file);
        const stats = await stat(path).catch(() => undefined);
        if (stats && stats.mtimeMs < cutoff && isGarbage(file)) {
          await removeQuietly(path);
          removed++;
        }
      }
    }
    return removed;
  }

  #row(key: string): BlobRow | undefined {
    return this.#context.run(
      `head ${key}`,
      (db) => db.statement(SQL.get).get(this.namespace, Buffer.from(key, 'utf8')) as BlobRow | undefined,
    );
  }
}

function toInfo(row: BlobRow): BlobInfo {
  return {
    key: Buffer.from(row.key).toString('utf8'),
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified),
    ...(row.content_type !== null ? { contentType: row.content_type } : {}),
    metadata: JSON.parse(row.metadata) as Record<string, string>,
  };
}

function cancelOnAbort(stream: Readable, signal: AbortSignal): void {
  const onAbort = () => stream.destroy(new AbortedError({ cause: signal.reason }));
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

function translateFsError(err: unknown, operation: string, signal: AbortSignal | undefined): Error {
  if (err instanceof SpotjobsError) return err;
  if (signal?.aborted || isAbortError(err)) return new AbortedError({ cause: err });
  const code = (err as NodeJS.ErrnoException).code;
  const detail = err instanceof Error ? err.message : String(err);
  return new BackendError(`local blob store: ${operation} failed: ${detail}`, code === 'EMFILE', {
    cause: err,
  });
}
