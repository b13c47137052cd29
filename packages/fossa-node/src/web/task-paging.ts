import { ValidationError } from '@spotjobs/core';
import { TaskPageLimits, type TaskQuery } from './read-model.ts';

// History is bounded per request: a page holds at most `TaskPageLimits.maxLimit` tasks and
// the next one is reached through an opaque cursor. These are the checks every
// `ClusterReadModel` and every page shares, so a bad `?limit=` gets the same answer anywhere.

const MAX_CURSOR_LENGTH = 1024;
const CURSOR_CHARS = /^[A-Za-z0-9_-]+$/;

/**
 * Checks a query's bounds: `limit` an integer from 1 to `maxLimit`, `cursor` (when given) a
 * short base64url token. Throws core's `ValidationError` listing every problem.
 *
 * @example
 * ```ts
 * checkTaskQuery({ state: 'finished', limit: 0 }); // throws ValidationError: limit must be an integer from 1 to 200
 * ```
 */
export function checkTaskQuery(query: TaskQuery): TaskQuery {
  const issues: string[] = [];
  if (query.state !== 'running' && query.state !== 'finished')
    issues.push("state must be 'running' or 'finished'");
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > TaskPageLimits.maxLimit)
    issues.push(`limit must be an integer from 1 to ${TaskPageLimits.maxLimit}`);
  if (query.cursor !== undefined && !isCursorShaped(query.cursor))
    issues.push(
      `cursor must be a token from a previous page (base64url, at most ${MAX_CURSOR_LENGTH} characters)`,
    );
  if (query.nodeId !== undefined && query.nodeId === '') issues.push('nodeId must not be empty');
  if (issues.length > 0) throw new ValidationError('invalid task query', issues);
  return query;
}

/**
 * Reads `?limit=` and `?cursor=` from a page's URL: a missing limit is the default, one out of
 * bounds is clamped into them (a page link should not fail for `limit=1000`), text that is no
 * number is an error.
 *
 * @example
 * ```ts
 * pageParams(new URLSearchParams('limit=1000')); // { limit: 200 }
 * ```
 */
export function pageParams(params: URLSearchParams): { limit: number; cursor?: string } {
  const rawLimit = params.get('limit');
  let limit: number = TaskPageLimits.defaultLimit;
  if (rawLimit !== null && rawLimit !== '') {
    if (!/^\d{1,9}$/.test(rawLimit))
      throw new ValidationError('invalid page', ['limit must be a whole number']);
    limit = Math.min(Math.max(Number(rawLimit), 1), TaskPageLimits.maxLimit);
  }
  const cursor = params.get('cursor');
  if (cursor === null || cursor === '') return { limit };
  if (!isCursorShaped(cursor))
    throw new ValidationError('invalid page', ['cursor is not from a previous page']);
  return { limit, cursor };
}

/**
 * An offset as a cursor, for read models that page over a list they hold in order.
 *
 * @example
 * ```ts
 * offsetFromCursor(offsetCursor(50)); // 50
 * ```
 */
export function offsetCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

/** The offset `offsetCursor` encoded (0 without a cursor); `ValidationError` for any other token. */
export function offsetFromCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw new ValidationError('invalid task query', ['cursor is not from a previous page']);
  return Number(match[1]);
}

function isCursorShaped(cursor: string): boolean {
  return cursor.length <= MAX_CURSOR_LENGTH && CURSOR_CHARS.test(cursor);
}
