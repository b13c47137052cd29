import { type BuildSpec, toBuildSpec } from '../build/build-spec.ts';
import type { FieldProblem } from '../errors.ts';
import { parseQualifiedName } from '../gentoo/atom.ts';
import { GentooLimits } from '../gentoo/limits.ts';
import { decodeCompatUseflag, splitCompatKeywords } from './compat-useflag.ts';

/** A compat request: what to build, and the keywords dropped from its USE string. */
export interface CompatQuery {
  readonly spec: BuildSpec;
  readonly droppedKeywords: readonly string[];
}

/**
 * Parses `?package=<cat/pkg>&version=<ver>&useflag=<USE>` (values decoded once already). Each
 * parameter may appear once; `package` and `version` are required; `useflag` is optional (the
 * original client sends it always, possibly empty). `useflag` is decoded once more (see
 * `decodeCompatUseflag`) and stripped of `~arch` keywords. Throws `InvalidRequestError` listing
 * every problem, each under its parameter name.
 *
 * @example
 * ```ts
 * parseCompatQuery(parseQuery('package=app-text/tree&version=1.7.0&useflag=static-libs')).spec;
 * // { category: 'app-text', name: 'tree', version: '1.7.0', use: ['static-libs'] }
 * ```
 */
export function parseCompatQuery(query: ReadonlyMap<string, readonly string[]>): CompatQuery {
  const problems: FieldProblem[] = [];
  const single = (name: string, required: boolean): string | undefined => {
    const values = query.get(name) ?? [];
    if (values.length > 1)
      problems.push({ field: name, reason: `is given ${values.length} times; give it once` });
    else if (required && (values[0] ?? '') === '') problems.push({ field: name, reason: 'is required' });
    return values.length === 1 ? values[0] : undefined;
  };
  const qualified = single('package', true);
  const version = single('version', true) ?? '';
  const useflag = single('useflag', false) ?? '';
  // A missing version is reported above; the grammar check below would only repeat it.
  const versionToCheck = version === '' ? '0' : version;

  let named: { category: string; name: string } | undefined;
  if (qualified) {
    const parsed = parseQualifiedName(qualified);
    if (parsed.ok) named = parsed.value;
    else for (const reason of parsed.problems) problems.push({ field: 'package', reason });
  }
  let use = '';
  let droppedKeywords: string[] = [];
  if (useflag.length > GentooLimits.useText) {
    problems.push({
      field: 'useflag',
      reason: `is longer than ${GentooLimits.useText} characters (${useflag.length})`,
    });
  } else {
    const decoded = decodeCompatUseflag(useflag);
    if (decoded.ok) ({ use, keywords: droppedKeywords } = splitCompatKeywords(decoded.value));
    else problems.push({ field: 'useflag', reason: decoded.reason });
  }
  const spec = toBuildSpec(
    { category: named?.category, name: named?.name, version: versionToCheck },
    use,
    { use: 'useflag' },
    problems,
  );
  return { spec, droppedKeywords };
}
