import { constants } from 'node:fs';
import { open, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { writeArtifact } from './artifact-writer.ts';
import { BuildEngineError } from './build-engine-error.ts';
import type { BuildArtifact } from './build-executor.ts';
import { isBinpkgOf } from './build-steps.ts';
import type { BuildTarget } from './build-target.ts';

/** What the package step left in its output directory. */
export interface CollectedBinpkg {
  /** Binary packages of the target found (a success needs exactly one). */
  readonly found: number;
  /** The package, hashed and copied into the work directory, when exactly one was found. */
  readonly artifact?: BuildArtifact;
}

/**
 * Looks for the binary packages of `target` in `outputDir` (the host directory the package
 * step wrote to as its PKGDIR, bind-mounted into the container or used directly by host
 * processes) and, when there is exactly one, copies it to `jobDir` while hashing it.
 *
 * The directory was written by the build, which is not trusted with this host's files: only
 * regular files count (symbolic links are neither listed nor followed), the file is opened with
 * `O_NOFOLLOW` and checked again through its descriptor, and its directory must resolve inside
 * `outputDir`. Copying from that descriptor (rather than renaming) also works when the daemon
 * cannot write the directories the container's root created.
 *
 * @example
 * ```ts
 * const { found, artifact } = await collectBinpkg(join(jobDir, 'binpkg-out'), target, jobDir, signal);
 * if (found === 1) upload(artifact!.path, artifact!.sha256);
 * ```
 */
export async function collectBinpkg(
  outputDir: string,
  target: BuildTarget,
  jobDir: string,
  signal: AbortSignal,
): Promise<CollectedBinpkg> {
  let entries: Awaited<ReturnType<typeof listFiles>>;
  try {
    entries = await listFiles(outputDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: 0 }; // the step wrote nothing at all
    throw new BuildEngineError('collect', `listing ${outputDir}`, { cause: err });
  }
  const binpkgs = entries.filter((path) =>
    isBinpkgOf(target, relative(outputDir, path).split(sep).join('/')),
  );
  const [only] = binpkgs;
  if (binpkgs.length !== 1 || only === undefined) return { found: binpkgs.length };
  try {
    const root = await realpath(outputDir);
    const parent = await realpath(dirname(only));
    if (parent !== root && !parent.startsWith(`${root}${sep}`))
      throw new Error('resolves outside the output directory');
    const handle = await open(only, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (!(await handle.stat()).isFile()) throw new Error('is not a regular file');
      const artifact = await writeArtifact(
        handle.createReadStream({ autoClose: false }),
        jobDir,
        basename(only),
        signal,
      );
      return { found: 1, artifact };
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw new BuildEngineError(
      'collect',
      `reading the binary package ${relative(outputDir, only)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

// Regular files only: a Dirent describes the entry itself, so symbolic links are not followed
// into (recursive readdir does not descend through them either).
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
