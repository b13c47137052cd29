import { ValidationError } from '../../errors.ts';
import type { TableKey } from '../../ports/table.ts';

// A query page's cursor is the key of the last item it returned, base64url(JSON): opaque to
// callers, and checked on the way back in so a forged or foreign cursor cannot steer the
// query into another partition or outside the prefix.

/** The cursor for a page that ended at `key`. */
export function encodeCursor(key: TableKey): string {
  return Buffer.from(JSON.stringify({ pk: key.pk, sk: key.sk })).toString('base64url');
}

/**
 * The key a cursor stands for; `ValidationError` unless it is well formed, belongs to
 * partition `pk` and lies inside `prefix`.
 */
export function decodeCursor(cursor: string, pk: string, prefix: string | undefined): TableKey {
  const invalid = (issue: string) => new ValidationError('invalid query cursor', [issue]);
  if (typeof cursor !== 'string' || cursor === '' || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid('not a base64url string');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new ValidationError('invalid query cursor', ['not JSON'], { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('not an object');
  const { pk: cursorPk, sk, ...rest } = parsed as Record<string, unknown>;
  if (typeof cursorPk !== 'string' || typeof sk !== 'string' || Object.keys(rest).length > 0) {
    throw invalid('not a table key');
  }
  if (cursorPk !== pk) throw invalid('cursor belongs to another partition');
  if (prefix && !sk.startsWith(prefix)) throw invalid('cursor lies outside the prefix');
  return { pk: cursorPk, sk };
}
