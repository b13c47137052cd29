import type { Dirent } from 'node:fs';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { AbortedError, ValidationError } from '@spotjobs/core';

export interface PruneBinpkgCacheOptions {
  /** The host's binpkg cache (`SPOTJOBS_COMPILE_CACHE_DIR`), mounted at Portage's PKGDIR in builds. */
  readonly dir: string;
  /** The cache's size to get down to, in bytes (file sizes, not blocks). */
  readonly maxBytes: number;
  readonly signal: AbortSignal;
  /** What "now" is, epoch ms. Default: the system clock. */
  readonly now?: number;
  /** A package used or written this recently is never deleted: a build may be reading or writing it. Default 60 s. */
  readonly minIdleMs?: number;
}

/** What one cache prune did. Paths are relative to the cache directory. */
export interface BinpkgCacheReport {
  /** All regular files in the cache before (packages, the `Packages` index, anything else). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly filesDeleted: number;
  readonly bytesDeleted: number;
  /** The packages deleted, least recently used first. */
  readonly deleted: readonly string[];
  /** Files being written (`*.partial*`) or packages used within `minIdleMs`: left alone. */
  readonly skippedInUse: number;
  /** Category and package directories left empty, removed. */
  readonly dirsRemoved: number;
  /** Still above `maxBytes` once every package the prune may delete is gone. */
  readonly overLimit: boolean;
}

/** Binary packages as Portage writes them: `.tbz2` (xpak), `.xpak` (xpak, multi-instance), `.gpkg.tar`. */
const PACKAGE = /\.(?:tbz2|xpak|gpkg\.tar)$/;
/** A file still being written: Portage's and the stand-in's temporary names. */
const PARTIAL = /\.partial/;

interface PackageFile {
  readonly path: string;
  readonly size: number;
  /** The later of atime and mtime. */
  readonly lastUsedMs: number;
}

/**
 * Brings the binpkg cache down to `maxBytes` by deleting the least recently used binary packages.
 *
 * "Used" is the later of a file's atime and mtime: a build reads a package through its bind
 * mount, which updates atime where the filesystem keeps it (Linux's default `relatime` does so
 * at least once a day, enough to rank a cache); under `noatime` atime stays at creation, and the
 * order falls back to mtime (when the package was built).
 *
 * Never deleted: Portage's `Packages` index and any file that is not a binary package; files
 * being written (`*.partial*`); packages used or modified within `minIdleMs`. Category and
 * package directories left empty are removed. Portage notices deleted packages itself: the next
 * emerge that reads PKGDIR drops them from `Packages` and rewrites the index.
 *
 * A build that already chose a package the prune deletes fails to fetch it: schedule the prune
 * when builds are few, or pause the runner around it.
 *
 * @example
 * ```ts
 * const report = await pruneBinpkgCache({ dir: config.worker.cacheDir, maxBytes: config.worker.cacheMaxBytes, signal });
 * logger.info(report, 'binpkg cache pruned');
 * ```
 */
export async function pruneBinpkgCache(options: PruneBinpkgCacheOptions): Promise<BinpkgCacheReport> {
  const { dir, maxBytes, signal } = options;
  const now = options.now ?? Date.now();
  const minIdleMs = options.minIdleMs ?? 60_000;
  const issues: string[] = [];
  if (typeof dir !== 'string' || !isAbsolute(dir))
    issues.push(`dir must be an absolute path: ${String(dir)}`);
  if (!(Number.isFinite(maxBytes) && maxBytes >= 0)) issues.push('maxBytes must be >= 0');
  if (!(Number.isFinite(minIdleMs) && minIdleMs >= 0)) issues.push('minIdleMs must be >= 0');
  if (!Number.isFinite(now)) issues.push('now must be a time in ms');
  if (issues.length > 0) throw new ValidationError('invalid pruneBinpkgCache options', issues);
  const aborted = () => {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
  };

  // Scan: every regular file counts towards the total; only idle packages may go.
  let bytesBefore = 0;
  let skippedInUse = 0;
  const candidates: PackageFile[] = [];
  const dirs: { path: string; depth: number; mtimeMs: number }[] = [];
  const pending: { path: string; depth: number }[] = [{ path: dir, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    aborted();
    let entries: Dirent[];
    try {
      entries = await readdir(next.path, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // no cache yet, or gone meanwhile
      throw err;
    }
    for (const entry of entries) {
      const path = join(next.path, entry.name);
      if (entry.isDirectory()) {
        pending.push({ path, depth: next.depth + 1 });
        const stats = await lstat(path).catch(() => undefined);
        if (stats) dirs.push({ path, depth: next.depth + 1, mtimeMs: stats.mtimeMs });
        continue;
      }
      if (!entry.isFile()) continue; // symlinks and the like: not Portage's, not ours to judge
      const stats = await lstat(path).catch(() => undefined);
      if (!stats) continue;
      bytesBefore += stats.size;
      if (PARTIAL.test(entry.name)) {
        skippedInUse++;
      } else if (PACKAGE.test(entry.name)) {
        const lastUsedMs = Math.max(stats.atimeMs, stats.mtimeMs);
        if (now - lastUsedMs < minIdleMs) skippedInUse++;
        else candidates.push({ path, size: stats.size, lastUsedMs });
      }
    }
  }

  // Delete, least recently used first (ties by path, for a stable order), down to the limit.
  candidates.sort((a, b) => a.lastUsedMs - b.lastUsedMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let bytes = bytesBefore;
  let bytesDeleted = 0;
  const deleted: string[] = [];
  const emptied = new Set<string>();
  for (const file of candidates) {
    if (bytes <= maxBytes) break;
    aborted();
    try {
      await unlink(file.path);
      bytesDeleted += file.size;
      deleted.push(relative(dir, file.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    bytes -= file.size; // deleted by us or by someone else: gone either way
    emptied.add(join(file.path, '..'));
  }

  // Empty directories, deepest first so a category follows its last package directory. One
  // untouched by this pass goes only when idle: Portage may have just made it for a package.
  let dirsRemoved = 0;
  dirs.sort((a, b) => b.depth - a.depth);
  for (const d of dirs) {
    if (!emptied.has(d.path) && now - d.mtimeMs < minIdleMs) continue;
    try {
      await rmdir(d.path); // only ever succeeds on an empty directory
      dirsRemoved++;
      emptied.add(join(d.path, '..'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw err;
    }
  }

  return {
    bytesBefore,
    bytesAfter: bytes,
    filesDeleted: deleted.length,
    bytesDeleted,
    deleted,
    skippedInUse,
    dirsRemoved,
    overLimit: bytes > maxBytes,
  };
}
