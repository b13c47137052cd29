// Archives unpacked for real on disk: tar, tar.gz and zip, good ones and hostile ones.
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputRefusedError } from '../src/run/runner-errors.ts';
import type { ArchiveKind } from '../src/staging/archive-kind.ts';
import { extractArchive } from '../src/staging/extract-archive.ts';
import { type TestEntry, writeTar, writeZip } from './run-support/archives.ts';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function workspace() {
  const root = join(tmpdir(), `archives-${randomUUID()}`);
  roots.push(root);
  await mkdir(root, { recursive: true });
  return root;
}

const limits = { maxBytes: 1024 * 1024, maxEntries: 100 };

async function pack(
  kind: ArchiveKind,
  entries: readonly TestEntry[],
  deflate = false,
): Promise<{ file: string; out: string }> {
  const root = await workspace();
  const file = join(root, `archive.${kind}`);
  if (kind === 'zip') await writeZip(file, entries, deflate);
  else await writeTar(file, entries, kind === 'tar.gz');
  return { file, out: join(root, 'out') };
}

const formats: ArchiveKind[] = ['tar', 'tar.gz', 'zip'];

describe.each(formats)('%s archives', (kind) => {
  it('unpack files, folders, modes and inside symlinks', async () => {
    const { file, out } = await pack(kind, [
      { name: 'bin/', type: 'directory' },
      { name: 'bin/tool', body: '#!/bin/sh\necho tool\n', mode: 0o4755 },
      { name: './data/a.txt', body: 'alpha' },
      { name: 'lib/libx.so.1', body: 'ELF' },
      { name: 'lib/libx.so', type: 'symlink', target: 'libx.so.1' },
    ]);
    const bytes = await extractArchive(file, kind, out, `s3://b/in/x.${kind}`, limits);
    expect(bytes).toBe(20 + 5 + 3);
    expect(await readFile(join(out, 'data/a.txt'), 'utf8')).toBe('alpha');
    expect((await stat(join(out, 'bin/tool'))).mode & 0o7777).toBe(0o755); // setuid dropped
    expect(await readlink(join(out, 'lib/libx.so'))).toBe('libx.so.1');
    expect(await readFile(join(out, 'lib/libx.so'), 'utf8')).toBe('ELF');
  });

  it.each([
    ['../escape.txt', /\.\. in the path|invalid relative path/],
    ['a/../../escape.txt', /\.\. in the path|invalid relative path/],
    ['/etc/evil', /absolute path/],
  ])('refuse the entry %s', async (name, reason) => {
    const { file, out } = await pack(kind, [{ name, body: 'x' }]);
    const err = await extractArchive(file, kind, out, 's3://b/in/evil', limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputRefusedError);
    expect(String((err as Error).message)).toMatch(reason);
    await expect(lstat(join(out, '..', 'escape.txt'))).rejects.toThrow();
  });

  it('refuse symlinks pointing outside, and never write through one', async () => {
    const outside = await pack(kind, [{ name: 'etc', type: 'symlink', target: '../../../etc' }]);
    await expect(extractArchive(outside.file, kind, outside.out, 's3://b/in/l', limits)).rejects.toThrow(
      /symlink pointing outside the archive/,
    );
    const absolute = await pack(kind, [{ name: 'passwd', type: 'symlink', target: '/etc/passwd' }]);
    await expect(extractArchive(absolute.file, kind, absolute.out, 's3://b/in/l', limits)).rejects.toThrow(
      /symlink to an absolute path/,
    );
    // A link to a folder inside, then a file "through" it: the file lands in a real folder
    // first, and the link can then not be created over it.
    const through = await pack(kind, [
      { name: 'real/', type: 'directory' },
      { name: 'alias', type: 'symlink', target: 'real' },
      { name: 'alias/file.txt', body: 'x' },
    ]);
    await expect(extractArchive(through.file, kind, through.out, 's3://b/in/l', limits)).rejects.toThrow(
      /the path appears twice/,
    );
  });

  it('stop at the byte and entry limits', async () => {
    const big = await pack(kind, [{ name: 'zeros.bin', body: Buffer.alloc(256 * 1024) }], true);
    await expect(
      extractArchive(big.file, kind, big.out, 's3://b/in/bomb', { maxBytes: 64 * 1024, maxEntries: 10 }),
    ).rejects.toThrow(/unpacks to more than 65536 bytes/);
    const many = await pack(
      kind,
      Array.from({ length: 12 }, (_, i) => ({ name: `f${i}`, body: 'x' })),
    );
    await expect(
      extractArchive(many.file, kind, many.out, 's3://b/in/many', { maxBytes: 1024, maxEntries: 10 }),
    ).rejects.toThrow(/more than 10 entries/);
  });

  it('refuse duplicate paths and special files', async () => {
    const twice = await pack(kind, [
      { name: 'a.txt', body: '1' },
      { name: 'a.txt', body: '2' },
    ]);
    await expect(extractArchive(twice.file, kind, twice.out, 's3://b/in/t', limits)).rejects.toThrow(
      /the path appears twice/,
    );
    const fifo = await pack(kind, [{ name: 'pipe', type: 'fifo' }]);
    await expect(extractArchive(fifo.file, kind, fifo.out, 's3://b/in/f', limits)).rejects.toThrow(
      /not unpacked/,
    );
    expect(await readdir(fifo.out).catch(() => [])).toEqual([]);
  });
});

it('refuses hard links in tar archives', async () => {
  const { file, out } = await pack('tar', [
    { name: 'a', body: 'x' },
    { name: 'b', type: 'link', target: 'a' },
  ]);
  await expect(extractArchive(file, 'tar', out, 's3://b/in/h', limits)).rejects.toThrow(
    /link entries are not unpacked/,
  );
});

it('calls a corrupt archive unreadable', async () => {
  const root = await workspace();
  const file = join(root, 'junk');
  await writeTar(file, [{ name: 'a', body: 'x' }], true);
  const bytes = await readFile(file);
  await import('node:fs/promises').then((fs) => fs.writeFile(file, bytes.subarray(0, bytes.length - 8)));
  await expect(
    extractArchive(file, 'tar.gz', join(root, 'out'), 's3://b/in/junk.tgz', limits),
  ).rejects.toThrow(/not a readable tar.gz archive/);
  await import('node:fs/promises').then((fs) => fs.writeFile(file, 'PK not really'));
  await expect(extractArchive(file, 'zip', join(root, 'out2'), 's3://b/in/junk.zip', limits)).rejects.toThrow(
    /not a readable zip archive/,
  );
});
