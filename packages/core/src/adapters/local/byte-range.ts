import { ValidationError } from '../../errors.ts';

// Sort keys and blob keys are stored as UTF-8 BLOBs: SQLite compares BLOBs with memcmp, which is
// exactly the byte order DynamoDB and S3 use, and a prefix becomes an index range [lo, hi).

/** A half-open byte range: `lo` inclusive, `hi` exclusive (`undefined` = unbounded). */
export interface ByteRange {
  readonly lo: Buffer;
  readonly hi: Buffer | undefined;
}

/** The keys that start with `prefix`: [prefix, the next byte string after every extension of prefix). */
export function prefixRange(prefix: string | undefined): ByteRange {
  const lo = Buffer.from(prefix ?? '', 'utf8');
  return { lo, hi: prefixUpperBound(lo) };
}

/** Narrows `range` to the keys strictly after `after` (ascending pages). */
export function startAfter(range: ByteRange, after: Buffer): ByteRange {
  // The smallest byte string greater than `after` is `after` followed by 0x00.
  const next = Buffer.concat([after, Buffer.of(0)]);
  return { lo: Buffer.compare(next, range.lo) > 0 ? next : range.lo, hi: range.hi };
}

/** Narrows `range` to the keys strictly before `before` (descending pages). */
export function endBefore(range: ByteRange, before: Buffer): ByteRange {
  return { lo: range.lo, hi: range.hi && Buffer.compare(range.hi, before) < 0 ? range.hi : before };
}

function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  // Drop trailing 0xff bytes, then increment the last one; all 0xff (or empty) means no bound.
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const bound = Buffer.from(prefix.subarray(0, end));
  bound[end - 1] = (bound[end - 1] ?? 0) + 1;
  return bound;
}

/** An opaque page cursor: the last key of the page, base64url. */
export function encodeCursor(lastKey: Uint8Array): string {
  return Buffer.from(lastKey).toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`; anything else is a `ValidationError`. */
export function decodeCursor(cursor: string): Buffer {
  if (typeof cursor !== 'string' || cursor.length === 0 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new ValidationError('invalid cursor', ['cursor was not returned by this store']);
  }
  return Buffer.from(cursor, 'base64url');
}
