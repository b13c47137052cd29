import { ValidationError } from '@spotjobs/core';
import { parseVersionedAtom } from '../gentoo/atom.ts';
import { GentooLimits } from '../gentoo/limits.ts';
import { useFlagProblem } from '../gentoo/use-flags.ts';

/** A package version to build, split the way Portage names its files. */
export interface BuildTarget {
  /** `category/name-version`, as given: `dev-libs/libsigc++-2.12.1-r1`. */
  readonly cpv: string;
  readonly category: string;
  /** Package name without version: `libsigc++`. */
  readonly name: string;
  /** `2.12.1-r1`. */
  readonly version: string;
  /** `name-version`, the stem of the binary package's file name: `libsigc++-2.12.1-r1`. */
  readonly nameVersion: string;
}

// The request path validates user input with the same grammar (src/gentoo); the executor checks
// again because it can be called on its own, and because every value ends up as an argv element
// or an environment variable of emerge: never a shell, but an argument starting with `-` or
// holding a control character must still never get there.
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Splits `cpv` (`category/name-version`, no operator) into its parts, or throws `ValidationError`.
 *
 * @example
 * ```ts
 * parseBuildTarget('app-misc/ranger-1.8.1').nameVersion; // 'ranger-1.8.1'
 * ```
 */
export function parseBuildTarget(cpv: string): BuildTarget {
  const parsed = cpv.startsWith('=') ? undefined : parseVersionedAtom(cpv);
  if (!parsed?.ok) {
    const problems = parsed?.problems ?? ['give category/name-version without an operator'];
    throw new ValidationError(`invalid package ${JSON.stringify(cpv.slice(0, 256))}`, problems);
  }
  const { category, name, version } = parsed.value;
  return { cpv, category, name, version, nameVersion: `${name}-${version}` };
}

/** Throws `ValidationError` unless every entry is one USE flag (`flag` or `-flag`). */
export function assertUseFlags(use: readonly string[]): void {
  const problems = use.map(useFlagProblem).filter((problem): problem is string => problem !== undefined);
  if (use.length > GentooLimits.useFlags) problems.unshift(`more than ${GentooLimits.useFlags} flags`);
  if (problems.length > 0) throw new ValidationError('invalid USE flags', problems.slice(0, 10));
}

/** Throws `ValidationError` unless `jobId` is safe in file and container names (`[A-Za-z0-9_.-]`, ≤ 128). */
export function assertJobId(jobId: string): void {
  if (!JOB_ID.test(jobId)) {
    throw new ValidationError('invalid job id', [
      `${JSON.stringify(jobId.slice(0, 64))} is not [A-Za-z0-9_.-]{1,128}`,
    ]);
  }
}
