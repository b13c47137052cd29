import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through stream that fails with an error of code `BYTE_LIMIT` as soon as more than
 * `maxBytes` went through, so an oversized download or a decompression bomb stops at the
 * first byte too many instead of filling the disk. `onBytes` sees every chunk's size.
 *
 * @example
 * ```ts
 * await pipeline(body, byteLimit(1024 ** 3), createWriteStream(path));
 * ```
 */
export function byteLimit(maxBytes: number, onBytes?: (n: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.byteLength;
      if (seen > maxBytes) {
        callback(Object.assign(new Error(`more than ${maxBytes} bytes`), { code: 'BYTE_LIMIT' }));
        return;
      }
      onBytes?.(chunk.byteLength);
      callback(null, chunk);
    },
  });
}
