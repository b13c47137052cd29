// The sh launchers of bundled programs (bin/<program> → lib/<module>.mjs). Like the source
// tree's launchers (packages/*/bin/*) they follow their own symlinks to the real location, so
// a link in /usr/local/bin works, and `exec` Node, so Node is the main process and receives
// the signals (systemd's, ECS's, Batch's) and its exit code is the program's.

/** Which Node a launcher runs. */
export type LauncherNode =
  /** bin/node beside the launcher (the host tarball ships its runtime); $SPOTJOBS_NODE overrides it. */
  | 'bundled'
  /** `node` on PATH (container images, whose base image brings Node); $SPOTJOBS_NODE overrides it. */
  | 'path';

/**
 * The launcher script of `program`, running `../lib/<module>` relative to its real location.
 *
 * @example
 * ```ts
 * launcherScript('spotjobs-compile-worker', 'compile-worker.mjs', 'bundled');
 * ```
 */
export function launcherScript(program: string, module: string, node: LauncherNode): string {
  if (!/^[a-z0-9-]+$/.test(program) || !/^[a-z0-9-]+\.mjs$/.test(module))
    throw new Error(`launcher names must be plain: ${program}, ${module}`);
  // Shell parameter expansions (the launcher's text), not template placeholders.
  const nodeExpression = `\${SPOTJOBS_NODE:-${node === 'bundled' ? '$here/node' : 'node'}}`;
  const which =
    node === 'bundled'
      ? '# Node: $SPOTJOBS_NODE, else the runtime shipped beside this script (bin/node).'
      : '# Node: $SPOTJOBS_NODE, else `node` on PATH (the base image).';
  return `#!/bin/sh
# ${program}: runs the bundled lib/${module} on Node.js. Reached through a symlink, it finds
# lib/ beside its real location.
${which}
# exec: node replaces this shell, so it is the main process and gets the signals.
set -eu

self=$0
# Follow the chain of symlinks to the real file (readlink without -f: portable).
while [ -L "$self" ]; do
  target=$(readlink -- "$self")
  case $target in
    /*) self=$target ;;
    *) self=$(dirname -- "$self")/$target ;;
  esac
done
here=$(CDPATH='' cd -P -- "$(dirname -- "$self")" && pwd -P)

exec "${nodeExpression}" "$here/../lib/${module}" "$@"
`;
}
