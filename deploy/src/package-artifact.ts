// What the packaging reports of each file it made: where (relative to the output directory),
// how big, and its sha256, as printed and as written to dist/manifest.json.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';

/** One artifact of the packaging. */
export interface Artifact {
  /** Path relative to the output directory, `/`-separated. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Sizes and hashes a file the packaging wrote.
 *
 * @example
 * ```ts
 * const artifact = await describeArtifact('dist', 'dist/lambda/compile-api.zip', signal);
 * // { path: 'lambda/compile-api.zip', bytes: 1048576, sha256: '…' }
 * ```
 */
export async function describeArtifact(outDir: string, file: string, signal: AbortSignal): Promise<Artifact> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { signal })) hash.update(chunk as Buffer);
  return {
    path: relative(outDir, file).split('\\').join('/'),
    bytes: (await stat(file)).size,
    sha256: hash.digest('hex'),
  };
}
