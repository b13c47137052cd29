import { createWriteStream } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputRefusedError } from '../run/runner-errors.ts';
import { byteLimit } from './byte-limit.ts';

/** Bounds on what one archive may unpack to (a zip or tar bomb stops at the first byte over). */
export interface ArchiveLimits {
  /** Bytes of all entries together. */
  readonly maxBytes: number;
  readonly maxEntries: number;
}

/** Why an entry name is unsafe to unpack, or `undefined`. */
export function entryNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty name';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f\\]/.test(name)) return 'control character or backslash in the name';
  if (isAbsolute(name) || /^[A-Za-z]:/.test(name)) return 'absolute path';
  if (name.split('/').some((segment) => segment === '..')) return '.. in the path';
  return undefined;
}

/**
 * Writes the entries of one archive under `root`, whatever the format: names checked, sizes
 * and entry count bounded, modes kept without setuid/setgid/sticky bits, symlinks only when
 * they point inside `root`, and created last, so no entry is ever written through a link.
 * Hard links, devices and FIFOs are refused.
 *
 * @example
 * ```ts
 * const writer = new ArchiveWriter('/scratch/in/deps', 's3://b/deps.tar.gz', { maxBytes: 1e9, maxEntries: 10_000 });
 * await writer.file('lib/a.so', stream, 0o644, signal);
 * await writer.finish();
 * ```
 */
export class ArchiveWriter {
  readonly #root: string;
  readonly #source: string;
  readonly #limits: ArchiveLimits;
  readonly #links: Array<{ path: string; target: string }> = [];
  #entries = 0;
  #bytes = 0;

  constructor(root: string, source: string, limits: ArchiveLimits) {
    this.#root = resolve(root);
    this.#source = source;
    this.#limits = limits;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  refuse(name: string, reason: string): never {
    throw new InputRefusedError(`${this.#source} (entry ${JSON.stringify(name)})`, reason);
  }

  async directory(name: string): Promise<void> {
    const path = this.#target(name);
    await mkdir(path, { recursive: true });
  }

  async file(name: string, body: Readable, mode: number, signal?: AbortSignal): Promise<void> {
    const path = this.#target(name);
    await mkdir(dirname(path), { recursive: true });
    const budget = this.#limits.maxBytes - this.#bytes;
    // 'wx': never replace what an earlier entry (or a symlink from one) put there.
    const out = createWriteStream(path, { flags: 'wx', mode: (mode & 0o777) | 0o600 });
    try {
      await pipeline(
        body,
        byteLimit(budget, (n) => {
          this.#bytes += n;
        }),
        out,
        { signal },
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') this.refuse(name, 'the path appears twice');
      if ((err as { code?: string }).code === 'BYTE_LIMIT')
        this.refuse(name, `unpacks to more than ${this.#limits.maxBytes} bytes`);
      throw err;
    }
  }

  link(name: string, target: string): void {
    const path = this.#target(name);
    if (isAbsolute(target)) this.refuse(name, `symlink to an absolute path (${target})`);
    const resolved = resolve(dirname(path), target);
    if (!this.#inside(resolved)) this.refuse(name, `symlink pointing outside the archive (${target})`);
    this.#links.push({ path, target });
  }

  /** Creates the symlinks, after every file is in place. */
  async finish(): Promise<void> {
    for (const { path, target } of this.#links) {
      await mkdir(dirname(path), { recursive: true });
      try {
        await symlink(target, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          this.refuse(relative(this.#root, path), 'the path appears twice');
        throw err;
      }
    }
  }

  #target(name: string): string {
    this.#entries += 1;
    if (this.#entries > this.#limits.maxEntries)
      this.refuse(name, `more than ${this.#limits.maxEntries} entries`);
    const clean = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    const problem = entryNameProblem(clean);
    if (problem) this.refuse(name, problem);
    const path = join(this.#root, clean);
    if (!this.#inside(path)) this.refuse(name, 'path outside the archive');
    return path;
  }

  #inside(path: string): boolean {
    return path === this.#root || path.startsWith(this.#root + sep);
  }
}
