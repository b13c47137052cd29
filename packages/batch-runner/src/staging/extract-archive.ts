import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputRefusedError } from '../run/runner-errors.ts';
import type { ArchiveKind } from './archive-kind.ts';
import { type ArchiveLimits, ArchiveWriter } from './archive-writer.ts';

/**
 * Unpacks a downloaded archive (tar, tar.gz or zip) into `root`, safely: see `ArchiveWriter`
 * for what is refused. tar through `tar-stream` (+ zlib), zip through `yauzl` (which also
 * checks that each entry's size matches its header). Encrypted zip entries are refused: the
 * app gets its archive passwords through `APP_SECRET_*` and unpacks such archives itself.
 * Returns the number of bytes written.
 *
 * @example
 * ```ts
 * await extractArchive('/scratch/in/.download-1', 'tar.gz', '/scratch/in/deps', 's3://b/deps.tar.gz', limits, signal);
 * ```
 */
export async function extractArchive(
  file: string,
  kind: ArchiveKind,
  root: string,
  source: string,
  limits: ArchiveLimits,
  signal?: AbortSignal,
): Promise<number> {
  const writer = new ArchiveWriter(root, source, limits);
  try {
    if (kind === 'zip') await extractZip(file, writer, signal);
    else await extractTar(file, kind === 'tar.gz', writer, signal);
    await writer.finish();
  } catch (err) {
    if (err instanceof InputRefusedError || signal?.aborted) throw err;
    throw new InputRefusedError(source, `not a readable ${kind} archive (${(err as Error).message})`, {
      cause: err,
    });
  }
  return writer.bytes;
}

// tar-stream and yauzl load on first use: most runs unpack nothing, and start-up is on the
// multi-node rendezvous path.
async function extractTar(file: string, gzipped: boolean, writer: ArchiveWriter, signal?: AbortSignal) {
  const tar = await import('tar-stream');
  const extract = tar.extract();
  const input = createReadStream(file);
  const feeding = gzipped
    ? pipeline(input, createGunzip(), extract, { signal })
    : pipeline(input, extract, { signal });
  // The consumer below may stop early (a refused entry); the feeder's error is then noise.
  feeding.catch(() => {});
  try {
    for await (const entry of extract) {
      const { name, type, mode, linkname } = entry.header;
      switch (type) {
        case 'file':
        case 'contiguous-file':
        case undefined:
        case null:
          await writer.file(name, entry as unknown as Readable, mode ?? 0o644, signal);
          break;
        case 'directory':
          await writer.directory(name);
          entry.resume();
          break;
        case 'symlink':
          writer.link(name, linkname ?? '');
          entry.resume();
          break;
        default:
          writer.refuse(name, `${type} entries are not unpacked`);
      }
    }
    await feeding;
  } finally {
    input.destroy();
  }
}

async function extractZip(file: string, writer: ArchiveWriter, signal?: AbortSignal) {
  const yauzl = await import('yauzl');
  const zip = await yauzl.openPromise(file, {
    lazyEntries: true,
    autoClose: false,
    validateEntrySizes: true,
    strictFileNames: true,
  });
  try {
    for await (const entry of zip.eachEntry()) {
      signal?.throwIfAborted();
      const name = entry.fileName;
      if (entry.isEncrypted()) writer.refuse(name, 'encrypted entries are not unpacked');
      // Unix mode and file type live in the high 16 bits of the external attributes.
      const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
      const fileType = unixMode & 0o170000;
      if (name.endsWith('/') || fileType === 0o040000) {
        await writer.directory(name);
      } else if (fileType === 0o120000) {
        const target = await readAll(await zip.openReadStreamPromise(entry), 4096);
        writer.link(name, target);
      } else if (fileType === 0 || fileType === 0o100000) {
        await writer.file(name, await zip.openReadStreamPromise(entry), unixMode & 0o777 || 0o644, signal);
      } else {
        writer.refuse(name, 'special files are not unpacked');
      }
    }
  } finally {
    zip.close();
  }
}

async function readAll(stream: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > max) throw new Error('symlink target too long');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
