// A deterministic .tar.gz writer for packages installed on hosts (`tar -xzf pkg -C /opt`):
// entries sorted by path, parents before children, every entry owned by root (0:0), one fixed
// mtime, explicit modes. The same files give the same bytes, so a package's sha256 (which the
// launch template checks before installing) changes only when its contents do.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';

/** One entry of a tarball: a directory, or a file with its bytes. */
export type TarEntry =
  | { readonly type: 'directory'; readonly name: string; readonly mode?: number }
  | { readonly type: 'file'; readonly name: string; readonly data: Uint8Array; readonly mode?: number };

/** 2000-01-01T00:00:00Z: any fixed time keeps the archive reproducible; the epoch looks like a bug. */
export const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

function checkName(name: string): void {
  if (name === '' || name.startsWith('/') || name.split('/').some((part) => part === '..' || part === ''))
    throw new Error(
      `tar entry name must be a relative /-separated path without '..': ${JSON.stringify(name)}`,
    );
}

/**
 * The entries in archive order, with every parent directory present (added with mode 0755 when
 * missing), sorted by path so the order never depends on how they were listed.
 *
 * @example
 * ```ts
 * orderTarEntries([{ type: 'file', name: 'a/b', data: Buffer.from('x') }]).map((e) => e.name); // ['a', 'a/b']
 * ```
 */
export function orderTarEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byName = new Map<string, TarEntry>();
  for (const entry of entries) {
    checkName(entry.name);
    if (byName.has(entry.name)) throw new Error(`duplicate tar entry: ${entry.name}`);
    byName.set(entry.name, entry);
  }
  for (const entry of entries) {
    const parts = entry.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byName.get(parent);
      if (existing?.type === 'file') throw new Error(`tar entry ${entry.name} lies under the file ${parent}`);
      if (!existing) byName.set(parent, { type: 'directory', name: parent, mode: 0o755 });
    }
  }
  // Compare path segments, so `a/b` sorts right after `a` (not after `a-x`) and parents lead.
  const key = (name: string) => name.split('/');
  return [...byName.values()].sort((x, y) => {
    const a = key(x.name);
    const b = key(y.name);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    }
    return a.length - b.length;
  });
}

/**
 * Writes the entries as a gzip-compressed tarball (ustar, root-owned, fixed mtime).
 *
 * @example
 * ```ts
 * await writeTarGz('dist/pkg.tar.gz', [
 *   { type: 'file', name: 'spotjobs/bin/tool', data: script, mode: 0o755 },
 *   { type: 'file', name: 'spotjobs/VERSION', data: Buffer.from('1.0.0\n') },
 * ], signal);
 * ```
 */
export async function writeTarGz(
  file: string,
  entries: readonly TarEntry[],
  signal: AbortSignal,
): Promise<void> {
  const ordered = orderTarEntries(entries);
  const tar = pack();
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: FIXED_MTIME };
  const fill = async () => {
    for (const entry of ordered) {
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (entry.type === 'directory') {
          tar.entry({ ...owner, name: `${entry.name}/`, type: 'directory', mode: entry.mode ?? 0o755 }, done);
        } else {
          const data = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
          tar.entry(
            { ...owner, name: entry.name, type: 'file', mode: entry.mode ?? 0o644, size: data.length },
            data,
            done,
          );
        }
      });
    }
    tar.finalize();
  };
  // Level 9: the package is built once and downloaded by every host.
  await Promise.all([fill(), pipeline(tar, createGzip({ level: 9 }), createWriteStream(file), { signal })]);
}
