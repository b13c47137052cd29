import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** A pass-through stream and what has flowed through it so far. */
export interface Sha256Meter {
  readonly stream: Transform;
  /** Lower-case hex sha256 and byte count of everything that passed; call once, after the end. */
  result(): { readonly sha256: string; readonly size: number };
}

/**
 * Hashes and counts bytes on their way somewhere else (a file, an upload), so a file is read
 * once whatever is done with it.
 *
 * @example
 * ```ts
 * const meter = sha256Meter();
 * await pipeline(createReadStream(path), meter.stream, createWriteStream(copy));
 * const { sha256, size } = meter.result();
 * ```
 */
export function sha256Meter(): Sha256Meter {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest('hex'), size }) };
}
