import { AbortedError } from '@spotjobs/core';
import { printable } from './terminal-text.ts';

export interface LogTailOptions {
  readonly signal: AbortSignal;
  /** Lines to keep (default 20). */
  readonly lines?: number;
  /** The whole attempt fails after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** A server that ignores `Range` sends the whole log: read at most this much (default 16 MiB). */
  readonly maxReadBytes?: number;
  readonly fetch?: typeof fetch;
}

const TAIL_BYTES = 64 * 1024;

/**
 * The last lines of a build log behind a presigned URL, made safe to print (`printable`), or
 * `undefined` when the log cannot be read (the failure is reported without it). Asks for the last
 * 64 KiB only (`Range: bytes=-65536`, which S3 honours); a server that ignores the range is read
 * to the end, keeping only the tail, up to `maxReadBytes`.
 *
 * @example
 * ```ts
 * const tail = await fetchLogTail(link.url, { signal, lines: 20 });
 * for (const line of tail ?? []) console.error(`  | ${line}`);
 * ```
 */
export async function fetchLogTail(url: string, options: LogTailOptions): Promise<string[] | undefined> {
  const maxRead = options.maxReadBytes ?? 16 * 1024 * 1024;
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)]);
  try {
    const response = await (options.fetch ?? fetch)(url, {
      signal,
      headers: { range: `bytes=-${TAIL_BYTES}`, 'user-agent': 'spotjobs-compile-cli' },
    });
    if (response.status === 416) return []; // an empty log has no last 64 KiB
    if ((response.status !== 200 && response.status !== 206) || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    let tail = Buffer.alloc(0);
    let read = 0;
    for await (const chunk of response.body) {
      read += chunk.byteLength;
      if (read > maxRead) {
        await response.body.cancel().catch(() => undefined);
        return undefined;
      }
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > 2 * TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
    }
    const lines = tail.toString('utf8').split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    // The first line may have been cut by the byte window: drop it when more lines follow.
    const cut =
      response.status === 206
        ? !/^bytes 0-/.test(response.headers.get('content-range') ?? '')
        : read > TAIL_BYTES;
    if (cut && lines.length > 1) lines.shift();
    return lines.slice(-(options.lines ?? 20)).map(printable);
  } catch (err) {
    if (options.signal.aborted) throw new AbortedError({ cause: err });
    return undefined;
  }
}
