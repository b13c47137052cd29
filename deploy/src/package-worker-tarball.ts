// The compile farm's host package (contract §8): spotjobs-compile-worker-<version>-linux-x64.tar.gz
// extracting to spotjobs/ (so `tar -xzf pkg -C /opt` gives /opt/spotjobs, the units' ExecStart
// prefix) with the bundled daemon, API, CLI and dead-letter tool in lib/, their launchers and the Node runtime in
// bin/, the repository's systemd/ directory, and VERSION.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Artifact, describeArtifact } from './package-artifact.ts';
import { bundleEntry } from './package-bundle.ts';
import { launcherScript } from './package-launcher.ts';
import { readShippableNode } from './package-node-runtime.ts';
import { type TarEntry, writeTarGz } from './package-tarball.ts';

/** A program of the host package: its launcher, bundled module and entry point. */
export interface WorkerProgram {
  readonly program: string;
  readonly module: string;
  readonly entry: string;
}

export const WORKER_PROGRAMS: readonly WorkerProgram[] = [
  {
    program: 'spotjobs-compile-worker',
    module: 'compile-worker.mjs',
    entry: 'packages/compile-worker/src/worker-main.ts',
  },
  {
    program: 'spotjobs-compile-api',
    module: 'compile-api.mjs',
    entry: 'packages/compile-worker/src/api-main.ts',
  },
  {
    program: 'spotjobs-compile',
    module: 'compile-cli.mjs',
    entry: 'packages/compile-worker/src/cli/cli-main.ts',
  },
  // The operator's dead-letter tool, on the host that reads the queues anyway (docs/operations.md).
  {
    program: 'spotjobs-dlq',
    module: 'dlq.mjs',
    entry: 'packages/core/src/dead-letters/dlq-main.ts',
  },
];

/** The package's top directory: extracted under /opt it is the units' /opt/spotjobs. */
export const WORKER_PACKAGE_ROOT = 'spotjobs';

/**
 * The package's file name for a version.
 *
 * @example
 * ```ts
 * workerPackageName('0.1.0'); // 'spotjobs-compile-worker-0.1.0-linux-x64.tar.gz'
 * ```
 */
export function workerPackageName(version: string): string {
  if (!/^[0-9A-Za-z.+-]+$/.test(version))
    throw new Error(`not a package version: ${JSON.stringify(version)}`);
  return `spotjobs-compile-worker-${version}-linux-x64.tar.gz`;
}

/** The compile worker's version (its package.json), which names the package. */
export async function compileWorkerVersion(repoRoot: string, signal: AbortSignal): Promise<string> {
  const text = await readFile(join(repoRoot, 'packages/compile-worker/package.json'), {
    encoding: 'utf8',
    signal,
  });
  const { version } = JSON.parse(text) as { version?: unknown };
  if (typeof version !== 'string') throw new Error('packages/compile-worker/package.json has no version');
  return version;
}

/**
 * Every file under `dir` as tar entries below `prefix` (`''`: at the archive's root),
 * executables 0755 and the rest 0644.
 *
 * @example
 * ```ts
 * const entries = await directoryTarEntries(join(repoRoot, 'systemd'), 'spotjobs/systemd', signal);
 * ```
 */
export async function directoryTarEntries(
  dir: string,
  prefix: string,
  signal: AbortSignal,
): Promise<TarEntry[]> {
  const entries: TarEntry[] = prefix ? [{ type: 'directory', name: prefix, mode: 0o755 }] : [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, dirent.name);
    const name = prefix ? `${prefix}/${dirent.name}` : dirent.name;
    if (dirent.isDirectory()) entries.push(...(await directoryTarEntries(path, name, signal)));
    else if (dirent.isFile()) {
      const executable = ((await stat(path)).mode & 0o111) !== 0;
      entries.push({
        type: 'file',
        name,
        data: await readFile(path, { signal }),
        mode: executable ? 0o755 : 0o644,
      });
    } else
      throw new Error(
        `${path}: only files and directories can be packaged (found a ${dirent.isSymbolicLink() ? 'symlink' : 'special file'})`,
      );
  }
  return entries;
}

/**
 * Builds the host package into `<outDir>/spotjobs-compile-worker-<version>-linux-x64.tar.gz`.
 * Refuses (with the reason) when the running Node is not Node 24 on linux-x64, as that Node
 * becomes the package's bin/node.
 *
 * @example
 * ```ts
 * const artifact = await packageWorkerTarball(repoRoot, 'dist', signal);
 * ```
 */
export async function packageWorkerTarball(
  repoRoot: string,
  outDir: string,
  signal: AbortSignal,
): Promise<Artifact> {
  const node = await readShippableNode(signal);
  const version = await compileWorkerVersion(repoRoot, signal);
  const root = WORKER_PACKAGE_ROOT;
  const entries: TarEntry[] = [
    { type: 'directory', name: root, mode: 0o755 },
    { type: 'file', name: `${root}/VERSION`, data: Buffer.from(`${version}\n`) },
    { type: 'file', name: `${root}/bin/node`, data: node.bytes, mode: 0o755 },
    ...(await directoryTarEntries(join(repoRoot, 'systemd'), `${root}/systemd`, signal)),
  ];
  for (const { program, module, entry } of WORKER_PROGRAMS) {
    const { code, map } = await bundleEntry(repoRoot, entry, module, signal);
    entries.push(
      { type: 'file', name: `${root}/lib/${module}`, data: code },
      { type: 'file', name: `${root}/lib/${module}.map`, data: map },
      {
        type: 'file',
        name: `${root}/bin/${program}`,
        data: Buffer.from(launcherScript(program, module, 'bundled')),
        mode: 0o755,
      },
    );
  }
  const file = join(outDir, workerPackageName(version));
  await writeTarGz(file, entries, signal);
  return describeArtifact(outDir, file, signal);
}
