import { firstForbidden, quoteValue } from './grammar-text.ts';
import { GentooLimits } from './limits.ts';
import { VERSION_PATTERN } from './version.ts';

const CATEGORY_CHAR = /[A-Za-z0-9+_.-]/;
const PACKAGE_CHAR = /[A-Za-z0-9+_-]/;
// PMS 3.1.2: a package name must not end in a hyphen followed by something that is a version,
// or `foo-1` would be ambiguous with package `foo` at version 1.
const ENDS_IN_VERSION = new RegExp(`-${VERSION_PATTERN}$`);

/**
 * Why `value` is not a Gentoo category name (PMS 3.1.1: `[A-Za-z0-9+_.-]`, not starting with
 * `-`, `.` or `+`), or `undefined`. The leading-dot rule is also what keeps `.` and `..` out.
 *
 * @example
 * ```ts
 * categoryProblem('app-misc'); // undefined
 * categoryProblem('..'); // '".." must not begin with a hyphen, dot or plus'
 * ```
 */
export function categoryProblem(value: string): string | undefined {
  if (value.length === 0) return 'category is empty';
  if (value.length > GentooLimits.category)
    return `category is longer than ${GentooLimits.category} characters (${value.length})`;
  const bad = firstForbidden(value, CATEGORY_CHAR);
  if (bad) return `category ${quoteValue(value)} contains ${bad} (allowed: A-Z a-z 0-9 + _ . -)`;
  if (/^[-.+]/.test(value)) return `category ${quoteValue(value)} must not begin with a hyphen, dot or plus`;
  return undefined;
}

/**
 * Why `value` is not a Gentoo package name (PMS 3.1.2: `[A-Za-z0-9+_-]`, not starting with `-`
 * or `+`, not ending in `-<version>`), or `undefined`.
 *
 * @example
 * ```ts
 * packageNameProblem('ranger'); // undefined
 * packageNameProblem('foo-1.0'); // 'package name "foo-1.0" must not end in a hyphen and a version'
 * ```
 */
export function packageNameProblem(value: string): string | undefined {
  if (value.length === 0) return 'package name is empty';
  if (value.length > GentooLimits.packageName)
    return `package name is longer than ${GentooLimits.packageName} characters (${value.length})`;
  // First, because it is the likely mistake (a version typed into the package field) and the
  // dots of the version would otherwise be reported instead.
  if (ENDS_IN_VERSION.test(value))
    return `package name ${quoteValue(value)} must not end in a hyphen and a version`;
  const bad = firstForbidden(value, PACKAGE_CHAR);
  if (bad) return `package name ${quoteValue(value)} contains ${bad} (allowed: A-Z a-z 0-9 + _ -)`;
  if (/^[-+]/.test(value)) return `package name ${quoteValue(value)} must not begin with a hyphen or plus`;
  return undefined;
}
