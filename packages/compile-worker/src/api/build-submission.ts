import { z } from 'zod';
import { type BuildSpec, toBuildSpec } from '../build/build-spec.ts';
import { type FieldProblem, InvalidRequestError } from '../errors.ts';
import { parseQualifiedName, parseVersionedAtom } from '../gentoo/atom.ts';

const submissionSchema = z.strictObject({
  atom: z.string().optional(),
  package: z.string().optional(),
  version: z.string().optional(),
  use: z.union([z.string(), z.array(z.string())]).optional(),
});

/**
 * Parses the body of `POST /v1/builds`: `{ "atom": "cat/pkg-ver" }` or
 * `{ "package": "cat/pkg", "version": "ver" }`, plus an optional `use` as an array of flags or
 * a whitespace-separated string. Unknown fields are refused (a typo must not be ignored).
 * Throws `InvalidRequestError` listing every problem.
 *
 * @example
 * ```ts
 * parseBuildSubmission('{"atom":"app-misc/ranger-1.8.1","use":["-doc","ssl"]}');
 * ```
 */
export function parseBuildSubmission(body: string | undefined): BuildSpec {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    throw new InvalidRequestError([{ field: 'body', reason: 'must be a JSON object' }]);
  }
  const parsed = submissionSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidRequestError(
      parsed.error.issues.map((issue): FieldProblem => {
        if (issue.code === 'unrecognized_keys')
          return { field: issue.keys[0] ?? 'body', reason: 'is not a field of a build request' };
        const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
        return { field, reason: issue.path.length > 0 ? issue.message : 'must be a JSON object' };
      }),
    );
  }
  const { atom, package: qualified, version, use = [] } = parsed.data;
  if (atom !== undefined) {
    if (qualified !== undefined || version !== undefined)
      throw new InvalidRequestError([
        { field: 'atom', reason: 'give either atom, or package and version, not both' },
      ]);
    const pv = parseVersionedAtom(atom);
    if (!pv.ok) throw new InvalidRequestError(pv.problems.map((reason) => ({ field: 'atom', reason })));
    return toBuildSpec(pv.value, use, { category: 'atom', name: 'atom', version: 'atom' });
  }
  const problems: FieldProblem[] = [];
  if (!qualified) problems.push({ field: 'package', reason: 'is required (or give atom)' });
  if (!version) problems.push({ field: 'version', reason: 'is required (or give atom)' });
  const named = qualified ? parseQualifiedName(qualified) : undefined;
  if (named && !named.ok) for (const reason of named.problems) problems.push({ field: 'package', reason });
  const pv = named?.ok ? named.value : undefined;
  // A missing version is reported above; '0' only keeps the grammar check from repeating it.
  return toBuildSpec({ category: pv?.category, name: pv?.name, version: version || '0' }, use, {}, problems);
}
