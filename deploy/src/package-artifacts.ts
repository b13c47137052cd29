// The whole packaging, as one call: the Lambda archives, the host package and the image build
// contexts, then dist/manifest.json listing every artifact with its size and sha256.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from './package-artifact.ts';
import { packageImageContexts } from './package-images.ts';
import { packageLambdas } from './package-lambdas.ts';
import { compileWorkerVersion, packageWorkerTarball } from './package-worker-tarball.ts';

/** The parts of the packaging, each buildable alone. */
export const PACKAGE_PARTS = ['lambda', 'worker', 'images'] as const;
export type PackagePart = (typeof PACKAGE_PARTS)[number];

/** What `packageArtifacts` made; also the content of manifest.json. */
export interface PackageManifest {
  readonly version: string;
  readonly node: string;
  readonly artifacts: readonly Artifact[];
}

/**
 * Builds the chosen parts (default all) into `outDir` and writes `<outDir>/manifest.json`.
 *
 * @example
 * ```ts
 * const manifest = await packageArtifacts({ repoRoot, outDir: join(repoRoot, 'dist') }, signal);
 * ```
 */
export async function packageArtifacts(
  options: { readonly repoRoot: string; readonly outDir: string; readonly parts?: readonly PackagePart[] },
  signal: AbortSignal,
): Promise<PackageManifest> {
  const { repoRoot, outDir, parts = PACKAGE_PARTS } = options;
  await mkdir(outDir, { recursive: true });
  const artifacts: Artifact[] = [];
  if (parts.includes('lambda')) artifacts.push(...(await packageLambdas(repoRoot, outDir, signal)));
  if (parts.includes('worker')) artifacts.push(await packageWorkerTarball(repoRoot, outDir, signal));
  if (parts.includes('images')) artifacts.push(...(await packageImageContexts(repoRoot, outDir, signal)));
  const manifest: PackageManifest = {
    version: await compileWorkerVersion(repoRoot, signal),
    node: process.version,
    artifacts,
  };
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { signal });
  return manifest;
}
