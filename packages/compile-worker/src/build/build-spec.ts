import { type FieldProblem, InvalidRequestError } from '../errors.ts';
import type { PackageVersion } from '../gentoo/atom.ts';
import { categoryProblem, packageNameProblem } from '../gentoo/package-names.ts';
import { normaliseUse } from '../gentoo/use-flags.ts';
import { versionProblem } from '../gentoo/version.ts';

/**
 * What to build: a package at one version with a normalised USE selection. Only made by
 * `toBuildSpec` (or the request parsers built on it), so a value of this type has passed PMS
 * grammar checks and USE normalisation.
 *
 * @example
 * ```ts
 * const spec = toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, 'ssl -doc');
 * cpvOf(spec); // 'app-misc/ranger-1.8.1'
 * spec.use; // ['-doc', 'ssl']
 * ```
 */
export interface BuildSpec extends PackageVersion {
  /** Normalised: one entry per flag, `-name` when disabled, sorted by name. */
  readonly use: readonly string[];
}

/** `category/name-version`: the original's `packageExpression`, Portage's `=`-atom without the `=`. */
export function cpvOf(spec: PackageVersion): string {
  return `${spec.category}/${spec.name}-${spec.version}`;
}

/** `spec.use` as Portage's `USE=` value (flags joined by single spaces; empty when none). */
export function useTextOf(spec: BuildSpec): string {
  return spec.use.join(' ');
}

/** The request field each part of a build spec came from, for error messages. */
export interface SpecFields {
  readonly category: string;
  readonly name: string;
  readonly version: string;
  readonly use: string;
}

const DEFAULT_FIELDS: SpecFields = { category: 'package', name: 'package', version: 'version', use: 'use' };

/**
 * Checks a package version against PMS and validates and normalises its USE input. Throws one
 * `InvalidRequestError` listing every problem (`prior` ones first), each under the request field
 * it came from. A `category` or `name` left undefined was refused by the caller already (its
 * problem is in `prior`); the other parts are still checked, so one answer lists everything.
 *
 * @example
 * ```ts
 * toBuildSpec({ category: 'app-misc', name: 'ranger', version: '1.8.1' }, ['gtk', '-gtk']).use; // ['-gtk']
 * ```
 */
export function toBuildSpec(
  pv: { readonly category: string | undefined; readonly name: string | undefined; readonly version: string },
  use: string | readonly string[],
  fields: Partial<SpecFields> = {},
  prior: readonly FieldProblem[] = [],
): BuildSpec {
  const f = { ...DEFAULT_FIELDS, ...fields };
  const problems: FieldProblem[] = [...prior];
  const add = (field: string, reason: string | undefined) => {
    if (reason !== undefined) problems.push({ field, reason });
  };
  if (pv.category !== undefined) add(f.category, categoryProblem(pv.category));
  if (pv.name !== undefined) add(f.name, packageNameProblem(pv.name));
  add(f.version, versionProblem(pv.version));
  const normalised = normaliseUse(use);
  if (!normalised.ok) for (const reason of normalised.problems) add(f.use, reason);
  if (problems.length > 0 || !normalised.ok || pv.category === undefined || pv.name === undefined)
    throw new InvalidRequestError(problems);
  return { category: pv.category, name: pv.name, version: pv.version, use: normalised.flags };
}
