import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendError, ValidationError } from '../../errors.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../time/system-clock.ts';
import { BlobUrlSigner } from './blob-url-signer.ts';
import { BLOB_DIRS, FsBlobStore, type FsBlobStoreOptions } from './fs-blob-store.ts';
import { LocalContext } from './local-context.ts';
import { LocalQueue, type LocalQueueOptions } from './local-queue.ts';
import { LocalTable } from './local-table.ts';
import { SqliteDatabase } from './sqlite-database.ts';

/** Options of `openLocalStore`. */
export interface LocalStoreOptions {
  /** The data directory (created when absent). Several processes may share it. */
  readonly dataDir: string;
  /** Time for visibility timeouts, `lastModified` and URL expiry (default `systemClock`). */
  readonly clock?: Clock;
}

/** The database file inside the data dir. */
export const LOCAL_DATABASE_FILE = 'spotjobs.db';

/**
 * The embedded default backend: queues, tables and blobs in one data directory, durable across
 * `kill -9` and shared by every process that opens the same directory. Layout:
 *
 * ```
 * <dataDir>/spotjobs.db (+ -wal, -shm)   queues, tables, blob index (SQLite, WAL)
 * <dataDir>/blob-signing.key             HMAC key of presigned URLs (0600)
 * <dataDir>/blobs/objects/, blobs/tmp/   blob content
 * ```
 *
 * @example
 * ```ts
 * const store = await openLocalStore({ dataDir: '/var/lib/spotjobs' });
 * const jobs = store.queue('jobs');
 * const builds = store.table('builds');
 * const artifacts = store.blobs({ namespace: 'artifacts' });
 * // ...
 * await store.close();
 * ```
 */
export class LocalStore {
  readonly dataDir: string;
  readonly #context: LocalContext;

  /** Use `openLocalStore`, which does the I/O. */
  constructor(context: LocalContext) {
    this.#context = context;
    this.dataDir = context.dataDir;
  }

  /** The queue `name` (created on first send); its dead-letter queue is `${name}-dlq` unless given. */
  queue(name: string, options: LocalQueueOptions = {}): LocalQueue {
    this.#context.assertOpen();
    return new LocalQueue(this.#context, name, options);
  }

  /** The table `name` (created on first put). */
  table(name: string): LocalTable {
    this.#context.assertOpen();
    return new LocalTable(this.#context, name);
  }

  /** The blobs of one namespace (default `default`); `baseUrl` is needed to presign. */
  blobs(options: FsBlobStoreOptions = {}): FsBlobStore {
    this.#context.assertOpen();
    return new FsBlobStore(this.#context, options);
  }

  /** Ends pending long polls and consumers of this store and closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.#context.closed.aborted) return;
    this.#context.close();
  }
}

/**
 * Opens (creating when needed) the local store in `dataDir`.
 *
 * @example
 * ```ts
 * const store = await openLocalStore({ dataDir: './data' });
 * ```
 */
export async function openLocalStore(options: LocalStoreOptions): Promise<LocalStore> {
  if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
    throw new ValidationError('invalid local store options', ['dataDir must be a non-empty path']);
  }
  let dataDir: string;
  try {
    await mkdir(options.dataDir, { recursive: true });
    // The real path keys the in-process wake-ups, so two opens of one dir hear each other.
    dataDir = await realpath(options.dataDir);
    await mkdir(join(dataDir, BLOB_DIRS.objects), { recursive: true });
    await mkdir(join(dataDir, BLOB_DIRS.temp), { recursive: true });
  } catch (err) {
    throw new BackendError(`cannot create the data dir ${options.dataDir}`, false, { cause: err });
  }
  const signer = await BlobUrlSigner.load(dataDir);
  const db = SqliteDatabase.open(join(dataDir, LOCAL_DATABASE_FILE));
  return new LocalStore(new LocalContext({ db, clock: options.clock ?? systemClock, dataDir, signer }));
}
