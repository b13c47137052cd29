import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

/** One archive entry for tests; any name, even hostile ones, is written as given. */
export interface TestEntry {
  readonly name: string;
  readonly body?: string | Buffer;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  readonly target?: string;
  readonly mode?: number;
}

/** A tar (gzipped when `gzip`) of `entries`, written to `path`. */
export async function writeTar(path: string, entries: readonly TestEntry[], gzip = false): Promise<void> {
  const pack = tar.pack();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const body = Buffer.from(entry.body ?? '');
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
      linkname: entry.target,
      size: type === 'file' ? body.length : 0,
    };
    if (type === 'file') pack.entry(header, body);
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  await writeFile(path, gzip ? gzipSync(bytes) : bytes);
}

/**
 * A zip of `entries` (stored, or deflated when `deflate`), built by hand so tests can put in
 * names no zip tool would write (`../x`, `/etc/x`) and Unix symlinks.
 */
export async function writeZip(path: string, entries: readonly TestEntry[], deflate = false): Promise<void> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const data = Buffer.from(type === 'symlink' ? (entry.target ?? '') : (entry.body ?? ''));
    const stored = deflate && type === 'file' ? deflateRawSync(data) : data;
    const method = deflate && type === 'file' ? 8 : 0;
    const name = Buffer.from(entry.name);
    const typeBits =
      type === 'directory' ? 0o040000 : type === 'symlink' ? 0o120000 : type === 'fifo' ? 0o010000 : 0o100000;
    const mode = typeBits | (entry.mode ?? (type === 'directory' ? 0o755 : 0o644));
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(path, Buffer.concat([...locals, directory, end]));
}
