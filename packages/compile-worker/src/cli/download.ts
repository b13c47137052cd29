import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError } from '@spotjobs/core';
import { describeFetchError } from './api-client.ts';
import { ArtifactMismatchError, CliError, CompileApiError, ServerUnreachableError } from './cli-errors.ts';

export interface DownloadOptions {
  /** A presigned GET URL: no credentials are sent with it. */
  readonly url: string;
  /** Existing directory the file is written to. */
  readonly dir: string;
  /** A plain file name (no `/`, not hidden). */
  readonly fileName: string;
  /** What the build recorded: the file only appears under `fileName` when both match. */
  readonly expected: { readonly sha256: string; readonly size: number };
  readonly signal: AbortSignal;
  /** No data for this long fails the download (default 60 s); a slow but moving one goes on. */
  readonly idleTimeoutMs?: number;
  /** Called after each chunk with the bytes received so far. */
  readonly onProgress?: (received: number) => void;
  readonly fetch?: typeof fetch;
}

export interface DownloadedFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * Streams a presigned URL into `dir/fileName`, hashing while writing:
 *
 * ```
 * GET url ─► .<name>.partial-<hex> (sha256 + size as it goes; more bytes than recorded: stop)
 *        ─► fsync ─► compare sha256 and size ─► rename to <name> ─► fsync dir
 * any failure, mismatch or abort ─► the partial file is removed, <name> never appears
 * ```
 *
 * So `fileName` only ever holds complete, verified bytes that survive a power cut. Throws
 * `ArtifactMismatchError` on a checksum or size mismatch, `AbortedError` when `signal`
 * aborts, `ServerUnreachableError` when the transfer breaks or stalls, and `CompileApiError`
 * when the link answers an HTTP error (an expired link: 403).
 *
 * @example
 * ```ts
 * const file = await downloadArtifact({ url: link.url, dir: '/tmp', fileName: 'ranger-1.8.1.tbz2', expected: link, signal });
 * ```
 */
export async function downloadArtifact(options: DownloadOptions): Promise<DownloadedFile> {
  const { dir, fileName, expected, signal } = options;
  if (fileName === '' || fileName.includes('/') || fileName.includes('\0') || fileName.startsWith('.'))
    throw new Error(`unsafe artifact file name ${JSON.stringify(fileName)}`);
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const where = linkForMessages(options.url);
  const idle = new AbortController();
  let idleTimer = setTimeout(() => idle.abort(), idleMs);
  const poke = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), idleMs);
  };
  const finalPath = join(dir, fileName);
  const partialPath = join(dir, `.${fileName}.partial-${randomBytes(6).toString('hex')}`);
  let handle: FileHandle | undefined;
  try {
    const response = await (options.fetch ?? fetch)(options.url, {
      signal: AbortSignal.any([signal, idle.signal]),
      headers: { 'user-agent': 'spotjobs-compile-cli' },
    });
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new CompileApiError({
        status: response.status,
        code: `HTTP_${response.status}`,
        message: `download of ${where} answered ${response.status} ${response.statusText}`,
      });
    }
    const announced = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(announced) && announced !== expected.size) {
      await response.body.cancel().catch(() => undefined);
      throw new ArtifactMismatchError(
        `the server sends ${announced} bytes, the build recorded ${expected.size}`,
        expected,
        { size: announced },
      );
    }
    handle = await open(partialPath, 'wx', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of response.body) {
      poke();
      size += chunk.byteLength;
      // A body longer than recorded can only be wrong: stop before it fills the disk.
      if (size > expected.size)
        throw new ArtifactMismatchError(`more than the recorded ${expected.size} bytes arrived`, expected, {
          size,
        });
      hash.update(chunk);
      // writeFile on a handle writes all of it from the current position: chunks append.
      await handle.writeFile(chunk);
      options.onProgress?.(size);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    const sha256 = hash.digest('hex');
    if (size !== expected.size)
      throw new ArtifactMismatchError(`got ${size} bytes, the build recorded ${expected.size}`, expected, {
        sha256,
        size,
      });
    if (sha256 !== expected.sha256)
      throw new ArtifactMismatchError(
        `sha256 ${sha256} differs from the recorded ${expected.sha256}`,
        expected,
        {
          sha256,
          size,
        },
      );
    await rename(partialPath, finalPath);
    await syncDirectory(dir);
    return { path: finalPath, sha256, size };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(partialPath, { force: true });
    if (signal.aborted) throw new AbortedError({ cause: signal.reason });
    if (err instanceof CliError) throw err;
    if (idle.signal.aborted)
      throw new ServerUnreachableError(`download of ${where} stalled: no data for ${idleMs / 1000} s`, {
        cause: err,
      });
    if (err instanceof TypeError || (err instanceof Error && err.name === 'AbortError'))
      throw new ServerUnreachableError(`download of ${where} failed: ${describeFetchError(err)}`, {
        cause: err,
      });
    throw err;
  } finally {
    clearTimeout(idleTimer);
  }
}

/** The link without its query: the signature is a short-lived credential for the file. */
function linkForMessages(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Fsyncs a directory, so the rename into it survives a power cut, not only a crash. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
