import { BackendError } from '../../errors.ts';
import type { Clock } from '../../ports/clock.ts';
import type { BlobUrlSigner } from './blob-url-signer.ts';
import { type SqliteDatabase, translateSqliteError } from './sqlite-database.ts';

/**
 * What the local adapters of one `LocalStore` share: its database connection, clock, data dir,
 * URL signer, and a signal that aborts when the store closes (so long polls end with it).
 */
export class LocalContext {
  readonly db: SqliteDatabase;
  readonly clock: Clock;
  readonly dataDir: string;
  readonly signer: BlobUrlSigner;
  readonly #closing = new AbortController();

  constructor(options: { db: SqliteDatabase; clock: Clock; dataDir: string; signer: BlobUrlSigner }) {
    this.db = options.db;
    this.clock = options.clock;
    this.dataDir = options.dataDir;
    this.signer = options.signer;
  }

  /** Aborts when the store closes. */
  get closed(): AbortSignal {
    return this.#closing.signal;
  }

  close(): void {
    this.#closing.abort(new BackendError('local store closed', false));
    this.db.close();
  }

  /** Runs `fn` on the open database; SQLite errors become `BackendError`. */
  run<T>(operation: string, fn: (db: SqliteDatabase) => T): T {
    this.assertOpen();
    try {
      return fn(this.db);
    } catch (err) {
      throw translateSqliteError(err, operation);
    }
  }

  assertOpen(): void {
    if (this.#closing.signal.aborted) throw new BackendError('local store is closed', false);
  }
}
