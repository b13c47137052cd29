import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AbortedError, SpotjobsError, ValidationError } from '@spotjobs/core';

const run = promisify(execFile);

/** A generation's name: the UTC time it went live (ms) and a random suffix, so names sort by age. */
const GENERATION = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[a-z0-9-]+$/;
const STAGING_PREFIX = '.staging-';

/** What sits at `treeDir` now. */
export type LiveTree =
  /** The symlink this class maintains, to one of its generations. */
  | { readonly kind: 'generation'; readonly name: string }
  /** A plain directory (a tree put there by hand): it becomes a retired generation at the first swap. */
  | { readonly kind: 'directory' }
  /** A symlink somewhere else: replaced at the first swap; its target is never touched. */
  | { readonly kind: 'link'; readonly target: string }
  | { readonly kind: 'missing' };

/**
 * The Portage tree that builds bind-mount read-only, kept as generations so that a refresh never
 * changes a tree under a running build:
 *
 * ```
 * <treeDir>                       symlink -> <name>.trees/<generation>   what builds mount
 * <treeDir>.trees/<generation>    one complete tree per successful sync, <UTC when it went live>-<hex>
 * <treeDir>.trees/.staging-<hex>  the sync in progress (a crash's leftover goes at the next refresh)
 * <treeDir>.swap-<hex>            the new symlink, for an instant, before it is renamed over <treeDir>
 * ```
 *
 * A refresh copies the live generation into a staging directory, syncs that, renames it into a
 * generation and renames a new symlink over `<treeDir>`: one `rename(2)`, atomic. Docker resolves
 * the symlink when a container starts, so a build started before the swap keeps the generation
 * it mounted, and one started after gets the new one. A retired generation is deleted once it has
 * been retired for `keepRetiredMs` (longer than the build timeout: no build still runs on it).
 *
 * Not for concurrent refreshes of one `treeDir` (the daemon's cron never overlaps a task's runs).
 *
 * @example
 * ```ts
 * const trees = new TreeGenerations('/var/lib/spotjobs-compile/portage');
 * const staging = await trees.stage(signal);
 * // ... emerge --sync with `staging` mounted at /var/db/repos/gentoo ...
 * await trees.promote(staging, Date.now());
 * await trees.retire(Date.now(), 6 * 3600_000, signal);
 * ```
 */
export class TreeGenerations {
  readonly treeDir: string;
  /** Where the generations live, beside `treeDir` (same filesystem, so renames are atomic). */
  readonly generationsDir: string;
  readonly #linkTarget: (name: string) => string;

  constructor(treeDir: string) {
    if (typeof treeDir !== 'string' || !isAbsolute(treeDir) || resolve(treeDir) === '/') {
      throw new ValidationError('invalid treeDir', [
        `must be an absolute path other than /: ${String(treeDir)}`,
      ]);
    }
    this.treeDir = resolve(treeDir);
    const base = basename(this.treeDir);
    this.generationsDir = `${this.treeDir}.trees`;
    // Relative, so the whole parent directory can be moved or mounted elsewhere.
    this.#linkTarget = (name) => `${base}.trees/${name}`;
  }

  async live(): Promise<LiveTree> {
    let stats: Awaited<ReturnType<typeof lstat>>;
    try {
      stats = await lstat(this.treeDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw err;
    }
    if (stats.isSymbolicLink()) {
      const target = await readlink(this.treeDir);
      const name = target.slice(this.#linkTarget('').length);
      return target === this.#linkTarget(name) && GENERATION.test(name)
        ? { kind: 'generation', name }
        : { kind: 'link', target };
    }
    if (stats.isDirectory()) return { kind: 'directory' };
    throw new ValidationError('invalid treeDir', [`${this.treeDir} is neither a directory nor a symlink`]);
  }

  /** Removes what a refresh that crashed left behind: staging directories and temporary symlinks. */
  async removeLeftovers(): Promise<string[]> {
    const removed: string[] = [];
    const swapPrefix = `${basename(this.treeDir)}.swap-`;
    for (const name of await namesIn(dirname(this.treeDir))) {
      if (!name.startsWith(swapPrefix)) continue;
      await rm(join(dirname(this.treeDir), name), { force: true });
      removed.push(name);
    }
    for (const name of await namesIn(this.generationsDir)) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      await rm(join(this.generationsDir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /**
   * A new staging directory holding a copy of the live tree (owners, modes and timestamps kept,
   * so rsync's quick check transfers only what changed), or empty when there is no tree yet.
   * Removed again when the copy fails or `signal` aborts.
   *
   * The copy is GNU `cp -a --reflink=auto` (an argv, no shell): about nine times faster than
   * Node's `fs.cp` on a tree of small files, and on btrfs or XFS the generations share their
   * blocks.
   */
  async stage(signal: AbortSignal): Promise<string> {
    await mkdir(this.generationsDir, { recursive: true, mode: 0o755 });
    const staging = join(this.generationsDir, `${STAGING_PREFIX}${randomBytes(4).toString('hex')}`);
    const source = await this.#liveSource();
    try {
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      if (source === undefined) await mkdir(staging, { mode: 0o755 });
      else await copyTree(source, staging, signal);
      return staging;
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      if (signal.aborted) throw new AbortedError({ cause: signal.reason ?? err });
      throw err;
    }
  }

  /**
   * Makes `staging` the live tree: renames it into a generation, then a new symlink over
   * `treeDir` (a plain directory there is first moved aside as a retired generation: the one swap
   * that is two renames). Returns the new generation's name.
   */
  async promote(staging: string, nowMs: number): Promise<string> {
    const live = await this.live();
    const liveSince = live.kind === 'generation' ? liveSinceOf(live.name) : undefined;
    // Names must sort after the live one even if the clock stepped back.
    const since = Math.max(nowMs, (liveSince ?? 0) + 2);
    const name = `${stampOf(since)}-${randomBytes(3).toString('hex')}`;
    await rename(staging, join(this.generationsDir, name));
    const link = `${this.treeDir}.swap-${randomBytes(4).toString('hex')}`;
    await symlink(this.#linkTarget(name), link);
    try {
      if (live.kind === 'directory') {
        await rename(this.treeDir, join(this.generationsDir, `${stampOf(since - 1)}-replaced`));
      }
      await rename(link, this.treeDir);
    } catch (err) {
      await rm(link, { force: true });
      throw err;
    }
    return name;
  }

  /** Removes a staging directory that will not be promoted. */
  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true });
  }

  /**
   * Deletes the generations retired for at least `keepRetiredMs` (a generation retires when the
   * next one goes live) and any newer than the live one (a crash between rename and swap: never
   * mounted). Does nothing unless `treeDir` is this class's symlink. Returns the names deleted.
   */
  async retire(nowMs: number, keepRetiredMs: number, signal: AbortSignal): Promise<string[]> {
    const live = await this.live();
    if (live.kind !== 'generation') return [];
    const names = (await namesIn(this.generationsDir)).filter((n) => GENERATION.test(n)).sort();
    const current = names.indexOf(live.name);
    const removed: string[] = [];
    for (const [index, name] of names.entries()) {
      if (index === current) continue;
      const successor = names[index + 1];
      const retiredAt = successor === undefined ? undefined : liveSinceOf(successor);
      const expired = index > current || (retiredAt !== undefined && nowMs - retiredAt >= keepRetiredMs);
      if (!expired) continue;
      if (signal.aborted) throw new AbortedError({ cause: signal.reason });
      await rm(join(this.generationsDir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** The first line of the live tree's `metadata/timestamp.chk` (when Gentoo's mirror was synced). */
  async timestamp(): Promise<string | undefined> {
    try {
      const text = await readFile(join(this.treeDir, 'metadata', 'timestamp.chk'), 'utf8');
      return text.split('\n', 1)[0]?.trim() || undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  // The real directory the live tree is in, or undefined when there is none (or a dangling link).
  async #liveSource(): Promise<string | undefined> {
    try {
      return await realpath(this.treeDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}

async function copyTree(source: string, target: string, signal: AbortSignal): Promise<void> {
  try {
    await run('cp', ['-a', '--reflink=auto', '--no-target-directory', '--', source, target], {
      signal,
      maxBuffer: 1024 * 1024,
    });
  } catch (err) {
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new TreeCopyError(source, stderr || (err as Error).message, { cause: err });
  }
}

/**
 * The live tree could not be copied into a staging directory (disk full, permissions): the
 * refresh did not start and the live tree is unchanged.
 *
 * @example
 * ```ts
 * catch (err) { if (err instanceof TreeCopyError) logger.error({ source: err.source }, err.message); }
 * ```
 */
export class TreeCopyError extends SpotjobsError {
  readonly code = 'TREE_COPY';
  readonly source: string;
  constructor(source: string, detail: string, options?: { cause?: unknown }) {
    super(`copying the Portage tree ${source}: ${detail}`, options);
    this.source = source;
  }
}

function stampOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function liveSinceOf(name: string): number | undefined {
  const m = GENERATION.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s, ms);
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
