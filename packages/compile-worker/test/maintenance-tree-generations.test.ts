// TreeGenerations on real temporary directories: staging copies, the atomic symlink swap, the
// migration of a tree put there by hand, retirement of old generations, crash leftovers.
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, ValidationError } from '@spotjobs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TreeGenerations } from '../src/maintenance/tree-generations.ts';

const HOUR = 60 * 60 * 1000;
const T0 = Date.UTC(2030, 0, 15, 3, 30, 0);
const signal = new AbortController().signal;
let root: string;
let treeDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'maintenance-trees-'));
  treeDir = join(root, 'portage');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Stages, writes `files` into the staging tree (as a sync would), and promotes it at `now`. */
async function sync(trees: TreeGenerations, now: number, files: Record<string, string>): Promise<string> {
  const staging = await trees.stage(signal);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(staging, path, '..'), { recursive: true });
    await writeFile(join(staging, path), text);
  }
  return trees.promote(staging, now);
}

const read = (path: string) => readFile(join(treeDir, path), 'utf8');

describe('TreeGenerations', () => {
  it('first refresh: no tree yet, an empty staging directory, then treeDir becomes a symlink to it', async () => {
    const trees = new TreeGenerations(treeDir);
    expect(await trees.live()).toEqual({ kind: 'missing' });

    const staging = await trees.stage(signal);
    expect(await readdir(staging)).toEqual([]);
    await writeFile(join(staging, 'header.txt'), 'gentoo');
    const name = await trees.promote(staging, T0);

    expect(name).toMatch(/^20300115T033000000Z-[0-9a-f]{6}$/);
    expect(await trees.live()).toEqual({ kind: 'generation', name });
    expect((await lstat(treeDir)).isSymbolicLink()).toBe(true);
    expect(await readlink(treeDir)).toBe(`portage.trees/${name}`); // relative
    expect(await read('header.txt')).toBe('gentoo');
    expect(await readdir(trees.generationsDir)).toEqual([name]);
  });

  it('stages a copy of the live tree (content, mtimes, symlinks) that leaves the live tree untouched', async () => {
    const trees = new TreeGenerations(treeDir);
    const first = await sync(trees, T0, {
      'metadata/timestamp.chk': 'one',
      'profiles/base/make.defaults': 'USE=""',
    });
    const live = join(trees.generationsDir, first);
    await symlink('base', join(live, 'profiles/default'));
    const old = new Date(T0 - 1000 * HOUR);
    await utimes(join(live, 'profiles/base/make.defaults'), old, old);

    const staging = await trees.stage(signal);
    await writeFile(join(staging, 'metadata/timestamp.chk'), 'two');

    expect(await readFile(join(staging, 'profiles/base/make.defaults'), 'utf8')).toBe('USE=""');
    expect((await stat(join(staging, 'profiles/base/make.defaults'))).mtimeMs).toBe(old.getTime());
    expect(await readlink(join(staging, 'profiles/default'))).toBe('base');
    expect(await read('metadata/timestamp.chk')).toBe('one');
    await trees.discard(staging);
    expect(await readdir(trees.generationsDir)).toEqual([first]);
  });

  it('a second promote swaps the symlink and keeps the previous generation until it has been retired long enough', async () => {
    const trees = new TreeGenerations(treeDir);
    const first = await sync(trees, T0, { 'metadata/timestamp.chk': 'one' });
    const second = await sync(trees, T0 + 24 * HOUR, { 'metadata/timestamp.chk': 'two' });
    expect(await read('metadata/timestamp.chk')).toBe('two');
    expect(await trees.timestamp()).toBe('two');

    // Retired at T0 + 24 h (when `second` went live): kept for 6 h, gone after.
    expect(await trees.retire(T0 + 29 * HOUR, 6 * HOUR, signal)).toEqual([]);
    expect((await readdir(trees.generationsDir)).sort()).toEqual([first, second]);
    expect(await trees.retire(T0 + 30 * HOUR, 6 * HOUR, signal)).toEqual([first]);
    expect(await readdir(trees.generationsDir)).toEqual([second]);
    // The live generation is never retired.
    expect(await trees.retire(T0 + 999 * HOUR, 0, signal)).toEqual([]);
    expect(await trees.live()).toEqual({ kind: 'generation', name: second });
  });

  it('migrates a tree put there by hand: copied, synced, then kept as a retired generation', async () => {
    await mkdir(join(treeDir, 'metadata'), { recursive: true });
    await writeFile(join(treeDir, 'metadata/timestamp.chk'), 'by hand');
    await writeFile(join(treeDir, 'local-note'), 'keep me');
    const trees = new TreeGenerations(treeDir);
    expect(await trees.live()).toEqual({ kind: 'directory' });

    const name = await sync(trees, T0, { 'metadata/timestamp.chk': 'synced' });

    expect(await trees.live()).toEqual({ kind: 'generation', name });
    expect(await read('metadata/timestamp.chk')).toBe('synced');
    expect(await read('local-note')).toBe('keep me');
    const names = (await readdir(trees.generationsDir)).sort();
    expect(names).toEqual(['20300115T032959999Z-replaced', name]);
    expect(await readFile(join(trees.generationsDir, names[0] ?? '', 'metadata/timestamp.chk'), 'utf8')).toBe(
      'by hand',
    );
    expect(await trees.retire(T0, 0, signal)).toEqual(['20300115T032959999Z-replaced']);
  });

  it('replaces a symlink pointing elsewhere without touching its target', async () => {
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'file'), 'theirs');
    await symlink(elsewhere, treeDir);
    const trees = new TreeGenerations(treeDir);
    expect(await trees.live()).toEqual({ kind: 'link', target: elsewhere });

    await sync(trees, T0, { 'metadata/timestamp.chk': 'ours' });
    await trees.retire(T0 + 999 * HOUR, 0, signal);

    expect(await read('file')).toBe('theirs'); // copied in
    expect(await read('metadata/timestamp.chk')).toBe('ours');
    expect(await readdir(elsewhere)).toEqual(['file']);
  });

  it("names a generation after the live one's even when the clock stepped back", async () => {
    const trees = new TreeGenerations(treeDir);
    const first = await sync(trees, T0, {});
    const second = await sync(trees, T0 - 10 * HOUR, {});

    expect(second > first).toBe(true);
    expect(await trees.retire(T0 + HOUR, 0, signal)).toEqual([first]);
  });

  it('cleans up after a crash: staging directories, temporary symlinks, a generation that never went live', async () => {
    const trees = new TreeGenerations(treeDir);
    const live = await sync(trees, T0, {});
    await mkdir(join(trees.generationsDir, '.staging-deadbeef/metadata'), { recursive: true });
    await symlink('portage.trees/x', `${treeDir}.swap-cafe0001`);
    const orphan = '20300116T000000000Z-abcdef'; // renamed, never swapped in
    await mkdir(join(trees.generationsDir, orphan));

    expect((await trees.removeLeftovers()).sort()).toEqual(['.staging-deadbeef', 'portage.swap-cafe0001']);
    expect(await trees.retire(T0, 24 * HOUR, signal)).toEqual([orphan]);
    expect(await readdir(trees.generationsDir)).toEqual([live]);
    expect((await readdir(root)).sort()).toEqual(['portage', 'portage.trees']);
  });

  it('an aborted staging copy rejects AbortedError and leaves no staging directory', async () => {
    const trees = new TreeGenerations(treeDir);
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`cat-${i}/pkg/pkg-${i}.ebuild`] = 'EAPI=8';
    await sync(trees, T0, files);
    const controller = new AbortController();
    controller.abort();

    await expect(trees.stage(controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect((await readdir(trees.generationsDir)).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  });

  it('refuses a relative treeDir, /, or a plain file at treeDir', async () => {
    expect(() => new TreeGenerations('portage')).toThrow(ValidationError);
    expect(() => new TreeGenerations('/')).toThrow(ValidationError);
    await writeFile(treeDir, 'not a tree');
    await expect(new TreeGenerations(treeDir).live()).rejects.toBeInstanceOf(ValidationError);
  });
});
