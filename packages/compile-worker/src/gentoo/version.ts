import { firstForbidden, quoteValue } from './grammar-text.ts';
import { GentooLimits } from './limits.ts';

/**
 * PMS 3.2 version syntax: digits with dot-separated digit groups, an optional lower-case
 * letter, any number of `_alpha` `_beta` `_pre` `_rc` `_p` suffixes (each with an optional
 * number), then an optional `-r<N>` revision. Each repetition starts with its own literal
 * (`.`, `_`, `-r`), so matching is linear (no catastrophic backtracking).
 */
export const VERSION_PATTERN = '[0-9]+(?:\\.[0-9]+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)[0-9]*)*(?:-r[0-9]+)?';

const VERSION = new RegExp(`^${VERSION_PATTERN}$`);
const VERSION_CHAR = /[0-9a-z._-]/;

/**
 * Why `value` is not a Gentoo version (PMS 3.2), or `undefined` when it is one.
 *
 * @example
 * ```ts
 * versionProblem('1.8.1_rc2-r1'); // undefined
 * versionProblem('1.0;id'); // '"1.0;id" contains ";" ...'
 * ```
 */
export function versionProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > GentooLimits.version)
    return `is longer than ${GentooLimits.version} characters (${value.length})`;
  const bad = firstForbidden(value, VERSION_CHAR);
  if (bad) return `${quoteValue(value)} contains ${bad} (a version has only 0-9 a-z . _ -)`;
  if (!VERSION.test(value)) {
    return `${quoteValue(value)} is not a Gentoo version (digits and dots, an optional letter, _alpha/_beta/_pre/_rc/_p suffixes, an optional -rN; e.g. 1.8.1, 2.0_rc1-r2)`;
  }
  return undefined;
}
