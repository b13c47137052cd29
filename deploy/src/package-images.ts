// Docker build contexts of the container images (contract §7, parameters NodeImage and
// RunnerImage): `<outDir>/images/<name>/` holds the image's Dockerfile (from deploy/images/),
// its bundled programs in lib/ and their launchers in bin/. `docker build <dir>` needs nothing
// else: no workspace, no pnpm install in the image.
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Artifact, describeArtifact } from './package-artifact.ts';
import { bundleEntry } from './package-bundle.ts';
import { launcherScript } from './package-launcher.ts';
import type { WorkerProgram } from './package-worker-tarball.ts';

/** A container image: its Dockerfile in deploy/images/ and the programs it carries. */
export interface ImageTarget {
  readonly name: string;
  readonly programs: readonly WorkerProgram[];
}

export const IMAGE_TARGETS: readonly ImageTarget[] = [
  {
    name: 'fossa-node',
    programs: [
      {
        program: 'spotjobs-fossa-node',
        module: 'fossa-node.mjs',
        entry: 'packages/fossa-node/src/node-main.ts',
      },
      {
        program: 'spotjobs-fossa-gateway',
        module: 'fossa-gateway.mjs',
        entry: 'packages/fossa-node/src/gateway-main.ts',
      },
    ],
  },
  {
    name: 'batch-runner',
    programs: [
      {
        program: 'spotjobs-batch-runner',
        module: 'batch-runner.mjs',
        entry: 'packages/batch-runner/src/runner-main.ts',
      },
    ],
  },
];

/**
 * Writes one image's build context to `<outDir>/images/<name>/` (replacing what was there).
 *
 * @example
 * ```ts
 * const files = await packageImageContext(repoRoot, 'dist', IMAGE_TARGETS[0], signal);
 * // then: docker build dist/images/fossa-node
 * ```
 */
export async function packageImageContext(
  repoRoot: string,
  outDir: string,
  target: ImageTarget,
  signal: AbortSignal,
): Promise<Artifact[]> {
  const context = join(outDir, 'images', target.name);
  await rm(context, { recursive: true, force: true });
  await mkdir(join(context, 'bin'), { recursive: true });
  await mkdir(join(context, 'lib'), { recursive: true });
  const files = [join(context, 'Dockerfile')];
  await copyFile(join(repoRoot, 'deploy/images', `${target.name}.Dockerfile`), files[0]!);
  for (const { program, module, entry } of target.programs) {
    const { code, map } = await bundleEntry(repoRoot, entry, module, signal);
    const lib = join(context, 'lib', module);
    const bin = join(context, 'bin', program);
    await writeFile(lib, code, { signal, mode: 0o644 });
    await writeFile(`${lib}.map`, map, { signal, mode: 0o644 });
    await writeFile(bin, launcherScript(program, module, 'path'), { signal, mode: 0o755 });
    files.push(bin, lib);
  }
  const artifacts: Artifact[] = [];
  for (const file of files) artifacts.push(await describeArtifact(outDir, file, signal));
  return artifacts;
}

/**
 * Writes every image's build context.
 *
 * @example
 * ```ts
 * const artifacts = await packageImageContexts(repoRoot, 'dist', signal);
 * ```
 */
export async function packageImageContexts(
  repoRoot: string,
  outDir: string,
  signal: AbortSignal,
): Promise<Artifact[]> {
  const artifacts: Artifact[] = [];
  for (const target of IMAGE_TARGETS)
    artifacts.push(...(await packageImageContext(repoRoot, outDir, target, signal)));
  return artifacts;
}
