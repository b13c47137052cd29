import { quoteValue } from './grammar-text.ts';
import { categoryProblem, packageNameProblem } from './package-names.ts';
import { VERSION_PATTERN, versionProblem } from './version.ts';

/** A package at one version, each part checked against PMS. */
export interface PackageVersion {
  readonly category: string;
  /** The package name without its category (`PN`), the original's `nameShort`. */
  readonly name: string;
  /** `PVR`: the version with its revision, if any. */
  readonly version: string;
}

export type GrammarResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: string[] };

// Lazy name, anchored version: `foo-bar-1.0` splits as `foo-bar` + `1.0`. Inputs are length-checked
// before matching, so the (quadratic at worst) search stays tiny.
const CPV = new RegExp(`^([^/]*)/(.+?)-(${VERSION_PATTERN})$`);
const MAX_ATOM = 2 + 64 + 128 + 64;

/**
 * Splits `category/package` (the compat `package` parameter) and checks both halves.
 *
 * @example
 * ```ts
 * parseQualifiedName('app-misc/ranger'); // { ok: true, value: { category: 'app-misc', name: 'ranger' } }
 * ```
 */
export function parseQualifiedName(value: string): GrammarResult<{ category: string; name: string }> {
  const parts = value.split('/');
  if (parts.length !== 2) {
    return {
      ok: false,
      problems: [`${quoteValue(value)} must be category/package with exactly one "/" (e.g. app-misc/ranger)`],
    };
  }
  const [category = '', name = ''] = parts;
  const problems = [categoryProblem(category), packageNameProblem(name)].filter(
    (p): p is string => p !== undefined,
  );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { category, name } };
}

/**
 * Parses a versioned atom `category/package-version`, with an optional leading `=` (Portage's
 * exact-version operator, the only one a single build can mean).
 *
 * @example
 * ```ts
 * parseVersionedAtom('=app-misc/ranger-1.8.1-r1');
 * // { ok: true, value: { category: 'app-misc', name: 'ranger', version: '1.8.1-r1' } }
 * ```
 */
export function parseVersionedAtom(value: string): GrammarResult<PackageVersion> {
  const atom = value.startsWith('=') ? value.slice(1) : value;
  if (atom.length > MAX_ATOM) return { ok: false, problems: [`is longer than ${MAX_ATOM} characters`] };
  if (!atom.includes('/')) {
    return {
      ok: false,
      problems: [`${quoteValue(value)} must be category/package-version (e.g. app-misc/ranger-1.8.1)`],
    };
  }
  const match = CPV.exec(atom);
  if (!match) {
    // Say what is wrong with the pieces when they can be told apart, not only "no match".
    const slash = atom.indexOf('/');
    const named = parseQualifiedName(atom.replace(/-[^-/]*$/, ''));
    const tail = atom.slice(atom.lastIndexOf('-') + 1);
    const problems = named.ok ? [] : named.problems;
    if (atom.lastIndexOf('-') <= slash)
      problems.push(`${quoteValue(value)} has no -version after the package name`);
    else if (named.ok)
      problems.push(versionProblem(tail) ?? `${quoteValue(value)} is not category/package-version`);
    return { ok: false, problems };
  }
  const [, category = '', name = '', version = ''] = match;
  const problems = [categoryProblem(category), packageNameProblem(name), versionProblem(version)].filter(
    (p): p is string => p !== undefined,
  );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { category, name, version } };
}
