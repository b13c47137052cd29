import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AbortedError, throwIfAborted } from '../../errors.ts';
import type { BlobBody } from '../../ports/blob-store.ts';

/** What `writeDurably` wrote. */
export interface WrittenFile {
  readonly size: number;
  /** MD5 of the content, hex: what S3 answers as the ETag of a single-part upload. */
  readonly md5: string;
}

/**
 * Writes `body` to a new file at `path` (which must not exist) and fsyncs it before resolving,
 * so a later rename publishes complete, durable content. Aborting `signal` stops the write (and
 * destroys a stream body); the partial file is left for the caller to remove.
 */
export async function writeDurably(path: string, body: BlobBody, signal?: AbortSignal): Promise<WrittenFile> {
  throwIfAborted(signal);
  const hash = createHash('md5');
  let size = 0;
  const handle = await open(path, 'wx', 0o644);
  try {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      hash.update(bytes);
      size = bytes.length;
      await writeFully(handle, bytes);
    } else {
      await forEachChunk(body, signal, async (chunk) => {
        hash.update(chunk);
        size += chunk.length;
        await writeFully(handle, chunk);
      });
    }
    throwIfAborted(signal);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, md5: hash.digest('hex') };
}

/** Fsyncs a directory, so a rename into it survives a power cut, not only a crash. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function forEachChunk(
  stream: Readable,
  signal: AbortSignal | undefined,
  fn: (chunk: Uint8Array) => Promise<void>,
): Promise<void> {
  // Destroying the stream is what interrupts an iteration that waits for the next chunk.
  const onAbort = () => stream.destroy(new AbortedError({ cause: signal?.reason }));
  throwIfAborted(signal);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      await fn(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Uint8Array));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
