// One entry point bundled with esbuild into a single ES module for Node 24: every dependency
// inside (the AWS SDK too, so a deployed bundle runs the SDK versions the tests ran, not the one
// the Lambda runtime happens to carry), with a linked source map.
//
// Choices, and why:
// - Not minified: stack traces in CloudWatch and the journal stay readable without a map.
//   Measured on the compile API: minifying takes the module from 3.0 MB to 1.4 MB, but deflated
//   (as in the zip) only from 513 KB to 373 KB, far inside Lambda's limits.
// - A linked source map (a file beside the module, named on its last line) without sources
//   (`sourcesContent: false`): with `node --enable-source-maps` (NODE_OPTIONS) stack traces name
//   the repository's files and lines, at a fraction of the size; an inline map would have
//   doubled every bundle and its parse time at cold start.
// - The banner gives CommonJS dependencies what they expect in an ES module: `require` (ssh2,
//   pino's CJS modules call it for Node builtins), `__dirname` and `__filename` (ssh2's agent).
// - Optional native add-ons stay out: ssh2 (under dockerode) loads `cpu-features` and its own
//   `sshcrypto.node` inside try/catch and falls back to pure JavaScript without them; bundling
//   them is impossible (.node files) and needless. They are marked external, so the `require`
//   throws at run time and ssh2's fallback takes over.
// - write: false and a fixed virtual output path: esbuild's source map paths are relative to
//   the output file, so building into another directory must not change a byte.
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Metafile } from 'esbuild';

/** A bundled entry point: the module and its source map. */
export interface Bundle {
  readonly code: Buffer;
  readonly map: Buffer;
}

/** Dependencies left out of every bundle: optional native add-ons (see above). */
export const OPTIONAL_NATIVE_MODULES = ['cpu-features', '*.node'] as const;

const BANNER = [
  "import { createRequire as __spotjobsCreateRequire } from 'node:module';",
  'const require = __spotjobsCreateRequire(import.meta.url);',
  'const __filename = import.meta.filename;',
  'const __dirname = import.meta.dirname;',
].join('\n');

/**
 * The imports a bundle leaves to be resolved at run time that nothing will resolve: anything
 * but Node's builtins and the optional native add-ons (whose absence is handled). A bundle is
 * deployed alone, so each of these would fail when reached.
 *
 * @example
 * ```ts
 * unresolvedImports([{ path: 'node:fs', kind: 'import-statement', external: true }, { path: 'pino', kind: 'require-call', external: true }]);
 * // ['pino']
 * ```
 */
export function unresolvedImports(imports: Metafile['outputs'][string]['imports']): string[] {
  const optional = (path: string) => path === 'cpu-features' || path.endsWith('.node');
  return imports.filter((i) => i.external && !isBuiltin(i.path) && !optional(i.path)).map((i) => i.path);
}

/**
 * Bundles `entry` (a path inside `repoRoot`) as the module `fileName` (e.g. `index.mjs`); the
 * map is `<fileName>.map`, referenced from the module's last line.
 *
 * @example
 * ```ts
 * const { code, map } = await bundleEntry(repoRoot, 'packages/compile-worker/src/aws/lambda-entry.ts', 'index.mjs', signal);
 * ```
 */
export async function bundleEntry(
  repoRoot: string,
  entry: string,
  fileName: string,
  signal: AbortSignal,
): Promise<Bundle> {
  signal.throwIfAborted();
  // The same virtual place for every build of this entry, whatever the real output directory.
  const outfile = join(repoRoot, 'dist', '.bundles', entry.replaceAll('/', '_'), fileName);
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [join(repoRoot, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    sourcemap: 'linked',
    sourcesContent: false,
    minify: false,
    legalComments: 'eof',
    banner: { js: BANNER },
    external: [...OPTIONAL_NATIVE_MODULES],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  signal.throwIfAborted();
  if (result.warnings.length > 0) {
    const text = result.warnings.map((w) => `${w.location?.file ?? entry}: ${w.text}`).join('\n  ');
    throw new Error(`bundling ${entry} gave warnings (each may be a run-time failure):\n  ${text}`);
  }
  const output = result.metafile.outputs[relative(repoRoot, outfile)];
  if (!output) throw new Error(`esbuild's metafile does not describe the bundle of ${entry}`);
  const left = unresolvedImports(output.imports);
  if (left.length > 0)
    throw new Error(
      `the bundle of ${entry} would load these at run time, where they are absent: ${left.join(', ')}`,
    );
  const code = result.outputFiles.find((f) => f.path === outfile);
  const map = result.outputFiles.find((f) => f.path === `${outfile}.map`);
  if (!code || !map)
    throw new Error(
      `esbuild wrote no ${fileName} for ${entry} (got ${result.outputFiles.map((f) => relative(repoRoot, f.path))})`,
    );
  return { code: Buffer.from(code.contents), map: Buffer.from(map.contents) };
}
