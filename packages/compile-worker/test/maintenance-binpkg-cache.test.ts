// pruneBinpkgCache on real temporary directories, with atimes and mtimes set through utimes and
// an injected "now": least recently used packages go first, nothing else ever does.
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { AbortedError, ValidationError } from '@spotjobs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneBinpkgCache } from '../src/maintenance/binpkg-cache-prune.ts';

const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
const DAY = 24 * 60 * 60 * 1000;
const signal = new AbortController().signal;
let cache: string;

beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'maintenance-binpkgs-'));
});

afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
});

/** Writes `size` bytes at `path` (relative to the cache) with the given times (ms before NOW). */
async function file(
  path: string,
  size: number,
  times: { atimeAgo: number; mtimeAgo: number },
): Promise<void> {
  const full = join(cache, path);
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, Buffer.alloc(size, 0x61));
  await utimes(full, new Date(NOW - times.atimeAgo), new Date(NOW - times.mtimeAgo));
}

/** Every regular file under the cache, relative, with its size. */
async function onDisk(): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  for (const entry of await readdir(cache, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(cache, path), (await stat(path)).size);
  }
  return files;
}

const total = (files: Map<string, number>) => [...files.values()].reduce((a, b) => a + b, 0);

/** A cache like Portage's: an index, packages in the three formats, one being written, one just built. */
async function typicalCache(): Promise<void> {
  await file('Packages', 300, { atimeAgo: DAY, mtimeAgo: DAY });
  await file('dev-libs/libfoo-1.0.gpkg.tar', 4000, { atimeAgo: 30 * DAY, mtimeAgo: 40 * DAY });
  await file('dev-libs/libbar-2.1.gpkg.tar', 3000, { atimeAgo: 20 * DAY, mtimeAgo: 40 * DAY });
  await file('app-misc/ranger/ranger-1.8.1-1.xpak', 2000, { atimeAgo: 10 * DAY, mtimeAgo: 50 * DAY });
  await file('sys-apps/which-2.21.tbz2', 1000, { atimeAgo: 5 * DAY, mtimeAgo: 60 * DAY });
  // Old times, but still being written: never deleted.
  await file('dev-lang/rust-1.80.0.gpkg.tar.partial.4242', 5000, { atimeAgo: 90 * DAY, mtimeAgo: 90 * DAY });
  // Built seconds ago (mtime) yet with an ancient atime (a copied-in timestamp): in use.
  await file('net-misc/curl-8.9.gpkg.tar', 1500, { atimeAgo: 99 * DAY, mtimeAgo: 10_000 });
  // Not a package: left alone.
  await file('README.local', 200, { atimeAgo: 99 * DAY, mtimeAgo: 99 * DAY });
  // Directories age too: make the package directories old, so only emptiness decides.
  for (const d of ['dev-libs', 'app-misc/ranger', 'app-misc', 'sys-apps', 'dev-lang', 'net-misc']) {
    await utimes(join(cache, d), new Date(NOW - 60 * DAY), new Date(NOW - 60 * DAY));
  }
}

describe('pruneBinpkgCache', () => {
  it('deletes the least recently used packages until the cache fits, with exact byte accounting', async () => {
    await typicalCache();
    const before = await onDisk();
    expect(total(before)).toBe(17_000);

    // 17 000 bytes, at most 10 500: libfoo (4000) then libbar (3000) must go, 10 000 remain.
    const report = await pruneBinpkgCache({ dir: cache, maxBytes: 10_500, signal, now: NOW });

    expect(report.deleted).toEqual(['dev-libs/libfoo-1.0.gpkg.tar', 'dev-libs/libbar-2.1.gpkg.tar']);
    expect(report).toMatchObject({
      bytesBefore: 17_000,
      bytesAfter: 10_000,
      filesDeleted: 2,
      bytesDeleted: 7000,
      skippedInUse: 2,
      overLimit: false,
    });
    const after = await onDisk();
    expect(total(after)).toBe(report.bytesAfter);
    expect([...after.keys()].sort()).toEqual([
      'Packages',
      'README.local',
      'app-misc/ranger/ranger-1.8.1-1.xpak',
      'dev-lang/rust-1.80.0.gpkg.tar.partial.4242',
      'net-misc/curl-8.9.gpkg.tar',
      'sys-apps/which-2.21.tbz2',
    ]);
    // dev-libs emptied: removed; the others still hold files.
    expect(report.dirsRemoved).toBe(1);
    expect((await readdir(cache)).sort()).toEqual([
      'Packages',
      'README.local',
      'app-misc',
      'dev-lang',
      'net-misc',
      'sys-apps',
    ]);
  });

  it('ranks by the later of atime and mtime: a package read recently outlives one built recently but unread', async () => {
    await file('a/read-lately-1.gpkg.tar', 100, { atimeAgo: 1 * DAY, mtimeAgo: 80 * DAY });
    await file('b/built-lately-1.gpkg.tar', 100, { atimeAgo: 3 * DAY, mtimeAgo: 2 * DAY });
    await file('c/untouched-1.gpkg.tar', 100, { atimeAgo: 9 * DAY, mtimeAgo: 9 * DAY });

    const report = await pruneBinpkgCache({ dir: cache, maxBytes: 100, signal, now: NOW });

    expect(report.deleted).toEqual(['c/untouched-1.gpkg.tar', 'b/built-lately-1.gpkg.tar']);
    expect([...(await onDisk()).keys()]).toEqual(['a/read-lately-1.gpkg.tar']);
  });

  it('multi-instance layout: removes the emptied package directory and then its category', async () => {
    await file('app-misc/ranger/ranger-1.8.1-1.xpak', 600, { atimeAgo: 9 * DAY, mtimeAgo: 9 * DAY });
    await file('app-misc/ranger/ranger-1.8.1-2.xpak', 600, { atimeAgo: 8 * DAY, mtimeAgo: 8 * DAY });
    await file('sys-apps/which/which-2.21-1.xpak', 600, { atimeAgo: 1 * DAY, mtimeAgo: 1 * DAY });
    await file('Packages', 100, { atimeAgo: 1 * DAY, mtimeAgo: 1 * DAY });

    const report = await pruneBinpkgCache({ dir: cache, maxBytes: 700, signal, now: NOW });

    expect(report.filesDeleted).toBe(2);
    expect(report.dirsRemoved).toBe(2);
    expect((await readdir(cache)).sort()).toEqual(['Packages', 'sys-apps']);
    expect(report.bytesAfter).toBe(700);
  });

  it('leaves everything when the cache already fits', async () => {
    await typicalCache();

    const report = await pruneBinpkgCache({ dir: cache, maxBytes: 17_000, signal, now: NOW });

    expect(report).toEqual({
      bytesBefore: 17_000,
      bytesAfter: 17_000,
      filesDeleted: 0,
      bytesDeleted: 0,
      deleted: [],
      skippedInUse: 2,
      dirsRemoved: 0,
      overLimit: false,
    });
    expect(total(await onDisk())).toBe(17_000);
  });

  it('reports overLimit when only what it may not delete is left (index, partial, recent, other files)', async () => {
    await typicalCache();

    const report = await pruneBinpkgCache({ dir: cache, maxBytes: 0, signal, now: NOW });

    expect(report.filesDeleted).toBe(4);
    expect(report.bytesAfter).toBe(300 + 5000 + 1500 + 200);
    expect(report.overLimit).toBe(true);
    expect([...(await onDisk()).keys()].sort()).toEqual([
      'Packages',
      'README.local',
      'dev-lang/rust-1.80.0.gpkg.tar.partial.4242',
      'net-misc/curl-8.9.gpkg.tar',
    ]);
  });

  it('removes empty directories left idle, keeps a fresh empty one (Portage may be about to write there)', async () => {
    await mkdir(join(cache, 'old-cat/old-pkg'), { recursive: true });
    await mkdir(join(cache, 'new-cat'), { recursive: true });
    await utimes(join(cache, 'old-cat/old-pkg'), new Date(NOW - DAY), new Date(NOW - DAY));
    await utimes(join(cache, 'old-cat'), new Date(NOW - DAY), new Date(NOW - DAY));
    await utimes(join(cache, 'new-cat'), new Date(NOW - 5000), new Date(NOW - 5000));

    const report = await pruneBinpkgCache({ dir: cache, maxBytes: 1000, signal, now: NOW });

    expect(report.dirsRemoved).toBe(2);
    expect(await readdir(cache)).toEqual(['new-cat']);
  });

  it('treats a missing cache directory as an empty cache', async () => {
    const report = await pruneBinpkgCache({ dir: join(cache, 'not-yet'), maxBytes: 0, signal, now: NOW });

    expect(report).toMatchObject({ bytesBefore: 0, bytesAfter: 0, filesDeleted: 0, overLimit: false });
  });

  it('rejects AbortedError when aborted, deleting nothing', async () => {
    await typicalCache();
    const controller = new AbortController();
    controller.abort();

    await expect(
      pruneBinpkgCache({ dir: cache, maxBytes: 0, signal: controller.signal, now: NOW }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(total(await onDisk())).toBe(17_000);
  });

  it('validates its options', async () => {
    await expect(pruneBinpkgCache({ dir: 'relative/cache', maxBytes: 1, signal })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(pruneBinpkgCache({ dir: cache, maxBytes: -1, signal })).rejects.toThrow(/maxBytes/);
    await expect(pruneBinpkgCache({ dir: cache, maxBytes: Number.NaN, signal })).rejects.toThrow(/maxBytes/);
  });
});
