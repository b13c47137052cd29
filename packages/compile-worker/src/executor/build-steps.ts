import type { BuildStepName } from './build-executor.ts';
import type { BuildTarget } from './build-target.ts';

/** One emerge run: an argv (never a shell string) and the variables added to its environment. */
export interface BuildStep {
  readonly name: BuildStepName;
  /** `argv[0]` is `emerge`; an executor may swap in a path to the binary. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Pacloud's two steps, with its bugs fixed (reference A.7): USE is set on *both* (the original
 * lost it on the second), and each value is its own argv element (the original's unquoted
 * `$useflag` kept only the first flag).
 *
 * The second step writes to `outputPkgdir`, a directory private to the job, instead of
 * Portage's PKGDIR (which holds the shared dependency cache): concurrent builds of one package
 * with different USE then never overwrite each other's binary package, and a binary left in the
 * cache by an earlier build can never be taken for this build's output.
 *
 * @example
 * ```ts
 * const [deps, pkg] = buildSteps(parseBuildTarget('app-misc/ranger-1.8.1'), ['-doc', 'x'], '/var/tmp/out');
 * deps.argv; // ['emerge', '--onlydeps', '--onlydeps-with-rdeps', 'n', '=app-misc/ranger-1.8.1']
 * pkg.env;   // { USE: '-doc x', PKGDIR: '/var/tmp/out' }
 * ```
 */
export function buildSteps(
  target: BuildTarget,
  use: readonly string[],
  outputPkgdir: string,
): [BuildStep, BuildStep] {
  const atom = `=${target.cpv}`;
  const USE = use.join(' ');
  return [
    { name: 'deps', argv: ['emerge', '--onlydeps', '--onlydeps-with-rdeps', 'n', atom], env: { USE } },
    { name: 'package', argv: ['emerge', '--buildpkgonly', atom], env: { USE, PKGDIR: outputPkgdir } },
  ];
}

/**
 * Whether `relativePath` (inside a PKGDIR, `/`-separated) is a binary package of `target`, in any
 * layout Portage writes: `cat/pf.tbz2`, `cat/pf.xpak`, `cat/pf.gpkg.tar`, or with
 * `FEATURES=binpkg-multi-instance` `cat/pn/pf-<build id>.<ext>`.
 */
export function isBinpkgOf(target: BuildTarget, relativePath: string): boolean {
  const parts = relativePath.replace(/^\.\//, '').split('/');
  const ext = /\.(?:tbz2|xpak|gpkg\.tar)$/.exec(relativePath)?.[0];
  if (!ext || parts[0] !== target.category) return false;
  const file = parts.at(-1) ?? '';
  if (parts.length === 2) return file === `${target.nameVersion}${ext}`;
  if (parts.length === 3 && parts[1] === target.name) {
    const stem = file.slice(0, -ext.length);
    return (
      stem.startsWith(`${target.nameVersion}-`) && /^[0-9]+$/.test(stem.slice(target.nameVersion.length + 1))
    );
  }
  return false;
}
