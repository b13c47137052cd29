// openLocalStore: the data dir it lays out, the database settings it relies on, and refusals.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { LOCAL_DATABASE_FILE, openLocalStore } from '../src/adapters/local/index.ts';
import { BackendError, ValidationError } from '../src/errors.ts';
import { tempDataDir, tempStore } from './fixtures/local-temp-store.ts';

describe('openLocalStore', () => {
  it('lays out one data dir: a WAL-mode database, a private signing key, blob directories', async () => {
    const dataDir = join(await tempDataDir(), 'nested', 'data');

    await tempStore({ dataDir });

    expect((await readdir(dataDir)).sort()).toEqual(
      expect.arrayContaining(['blob-signing.key', 'blobs', LOCAL_DATABASE_FILE]),
    );
    expect((await readdir(join(dataDir, 'blobs'))).sort()).toEqual(['objects', 'tmp']);
    expect((await stat(join(dataDir, 'blob-signing.key'))).mode & 0o777).toBe(0o600);
    const peek = new DatabaseSync(join(dataDir, LOCAL_DATABASE_FILE));
    try {
      expect(peek.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    } finally {
      peek.close();
    }
  });

  it('refuses a data dir written by a newer release', async () => {
    const dataDir = await tempDataDir();
    const store = await openLocalStore({ dataDir });
    await store.close();
    const db = new DatabaseSync(join(dataDir, LOCAL_DATABASE_FILE));
    db.exec('PRAGMA user_version = 999');
    db.close();

    await expect(openLocalStore({ dataDir })).rejects.toBeInstanceOf(BackendError);
  });

  it('refuses an empty data dir path, and one that cannot be created', async () => {
    const file = join(await tempDataDir(), 'plain-file');
    await writeFile(file, 'not a directory');

    await expect(openLocalStore({ dataDir: '' })).rejects.toBeInstanceOf(ValidationError);
    await expect(openLocalStore({ dataDir: join(file, 'data') })).rejects.toBeInstanceOf(BackendError);
  });

  it('after close, every adapter call fails with BackendError and close stays idempotent', async () => {
    const store = await tempStore();
    const table = store.table('items');
    const blobs = store.blobs();

    await store.close();
    await store.close();

    await expect(table.get({ pk: 'p', sk: 's' })).rejects.toBeInstanceOf(BackendError);
    await expect(blobs.put('k', 'v')).rejects.toBeInstanceOf(BackendError);
    await expect(blobs.head('k')).rejects.toBeInstanceOf(BackendError);
    expect(() => store.blobs()).toThrow(BackendError);
  });
});
