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
    const fields = {
      method,
      crc: crc32(data),
      compressedSize: stored.length,
      size: data.length,
      nameLength: name.length,
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeSharedHeaderFields(local, 4, fields);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    writeSharedHeaderFields(central, 6, fields);
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

/**
 * The run of fields a ZIP entry's local header (from byte 4) and its central directory header
 * (from byte 6) both carry: version needed 2.0, UTF-8 names, the method, a fixed 1980-01-01
 * time, the CRC-32, both sizes and the name's length.
 */
function writeSharedHeaderFields(
  header: Buffer,
  at: number,
  entry: { method: number; crc: number; compressedSize: number; size: number; nameLength: number },
): void {
  header.writeUInt16LE(20, at);
  header.writeUInt16LE(0x0800, at + 2);
  header.writeUInt16LE(entry.method, at + 4);
  header.writeUInt16LE(0, at + 6);
  header.writeUInt16LE(0x21, at + 8);
  header.writeUInt32LE(entry.crc, at + 10);
  header.writeUInt32LE(entry.compressedSize, at + 14);
  header.writeUInt32LE(entry.size, at + 18);
  header.writeUInt16LE(entry.nameLength, at + 22);
}
