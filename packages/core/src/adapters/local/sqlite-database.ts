import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { BackendError, SpotjobsError } from '../../errors.ts';

/** How long a writer waits for another process's write lock before failing with `BackendError`. */
const BUSY_TIMEOUT_MS = 10_000;

// The whole schema. `user_version` records which revision a data dir has, so a later release
// can migrate in place; revision 1 is the first.
const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  attributes TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  lease_token TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, visible_at);
CREATE TABLE IF NOT EXISTS table_items (
  tbl TEXT NOT NULL,
  pk TEXT NOT NULL,
  sk BLOB NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
  namespace TEXT NOT NULL,
  key BLOB NOT NULL,
  file TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  content_type TEXT,
  metadata TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
`;

/**
 * The one SQLite connection of a `LocalStore`: WAL journal (readers never block the writer, and
 * several processes can share the file), `synchronous=FULL` (a commit is on disk before the call
 * resolves, so `kill -9` or a power cut loses nothing that was acknowledged), a busy timeout for
 * writers of other processes, and a cache of prepared statements.
 *
 * node:sqlite is synchronous; every statement here is short (indexed, bounded by a page size),
 * so blocking the event loop for it is cheaper than a worker-thread round trip.
 *
 * @example
 * ```ts
 * const db = SqliteDatabase.open('/var/lib/spotjobs/spotjobs.db');
 * db.transaction(() => db.statement('DELETE FROM blobs WHERE namespace = ?').run('tmp'));
 * ```
 */
export class SqliteDatabase {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /** Opens (creating when absent) the database file and brings its schema up to date. */
  static open(path: string): SqliteDatabase {
    try {
      const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
      try {
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = FULL');
        const database = new SqliteDatabase(path, db);
        database.#migrate();
        return database;
      } catch (err) {
        db.close();
        throw err;
      }
    } catch (err) {
      throw translateSqliteError(err, `open ${path}`);
    }
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  /** A prepared statement, compiled once per connection. */
  statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in one write transaction. `BEGIN IMMEDIATE` takes the write lock up front: a
   * deferred transaction that reads and then writes can fail with SQLITE_BUSY without waiting
   * when another process committed in between, which the busy timeout cannot cure.
   */
  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }

  #migrate(): void {
    this.transaction(() => {
      const row = this.#db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
      const current = row?.user_version ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new BackendError(
          `${this.path} has schema revision ${current}, newer than this release understands (${SCHEMA_VERSION})`,
          false,
        );
      }
      this.#db.exec(SCHEMA);
      if (current < SCHEMA_VERSION) this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }
}

/** SQLite result codes (primary, low byte) that clear up on their own. */
const RETRYABLE_CODES = new Set([5 /* BUSY */, 6 /* LOCKED */]);

/**
 * Turns a node:sqlite error into a `BackendError` (retryable for lock contention); spotjobs
 * errors pass through untouched.
 */
export function translateSqliteError(err: unknown, operation: string): Error {
  if (err instanceof SpotjobsError) return err;
  const errcode = (err as { errcode?: unknown } | null)?.errcode;
  const retryable = typeof errcode === 'number' && RETRYABLE_CODES.has(errcode & 0xff);
  const detail = err instanceof Error ? err.message : String(err);
  return new BackendError(`local store: ${operation} failed: ${detail}`, retryable, { cause: err });
}
