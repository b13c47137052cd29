// The Lambda code archives (contract §7): one zip per function, `index.mjs` (the bundled entry
// point, exporting the handlers CloudFormation names) and `index.mjs.map`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Artifact, describeArtifact } from './package-artifact.ts';
import { bundleEntry } from './package-bundle.ts';
import { zipArchive } from './package-zip.ts';

/** A Lambda function's code archive: its entry point and the handlers it must export. */
export interface LambdaTarget {
  readonly name: string;
  /** Entry point, relative to the repository root. */
  readonly entry: string;
  /** Exports the function's `Handler` settings name (`index.<export>`). */
  readonly handlers: readonly string[];
}

/** The functions of the templates: compile-farm (compile-api), batch (job-trigger), clusters. */
export const LAMBDA_TARGETS: readonly LambdaTarget[] = [
  { name: 'compile-api', entry: 'packages/compile-worker/src/aws/lambda-entry.ts', handlers: ['handler'] },
  { name: 'job-trigger', entry: 'packages/batch-runner/src/triggers/lambda-entry.ts', handlers: ['handler'] },
  {
    name: 'cluster-requests',
    entry: 'packages/batch-runner/src/clusters/lambda-entry.ts',
    handlers: ['createHandler', 'deleteHandler'],
  },
];

/**
 * Bundles and zips every Lambda function into `<outDir>/lambda/<name>.zip`.
 *
 * @example
 * ```ts
 * const artifacts = await packageLambdas(repoRoot, 'dist', signal);
 * ```
 */
export async function packageLambdas(
  repoRoot: string,
  outDir: string,
  signal: AbortSignal,
): Promise<Artifact[]> {
  await mkdir(join(outDir, 'lambda'), { recursive: true });
  const artifacts: Artifact[] = [];
  for (const target of LAMBDA_TARGETS) {
    const { code, map } = await bundleEntry(repoRoot, target.entry, 'index.mjs', signal);
    const file = join(outDir, 'lambda', `${target.name}.zip`);
    await writeFile(
      file,
      zipArchive([
        { name: 'index.mjs', data: code },
        { name: 'index.mjs.map', data: map },
      ]),
      { signal },
    );
    artifacts.push(await describeArtifact(outDir, file, signal));
  }
  return artifacts;
}
