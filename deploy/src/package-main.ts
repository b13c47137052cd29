// `pnpm package`: builds every deployable artifact into dist/ (or --out DIR) and prints each
// with its size and sha256. `--only lambda,worker,images` builds some parts. Exit 0 when all
// were built, 1 on a failure (said on stderr), 2 on a usage error.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGE_PARTS, type PackagePart, packageArtifacts } from './package-artifacts.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const usage = `usage: node deploy/src/package-main.ts [--out DIR] [--only ${PACKAGE_PARTS.join(',')}]`;

let out: string;
let parts: PackagePart[];
try {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  out = resolve(values.out ?? resolve(repoRoot, 'dist'));
  const only = values.only?.split(',').map((p) => p.trim());
  const unknown = only?.filter((p) => !(PACKAGE_PARTS as readonly string[]).includes(p)) ?? [];
  if (unknown.length > 0 || only?.length === 0) throw new Error(`unknown part(s): ${unknown.join(', ')}`);
  parts = (only as PackagePart[] | undefined) ?? [...PACKAGE_PARTS];
} catch (err) {
  console.error(`package: ${(err as Error).message}\n${usage}`);
  process.exit(2);
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted')));
try {
  const manifest = await packageArtifacts({ repoRoot, outDir: out, parts }, controller.signal);
  const width = Math.max(...manifest.artifacts.map((a) => a.path.length));
  for (const artifact of manifest.artifacts) {
    const size = `${(artifact.bytes / 1024 / 1024).toFixed(2)} MiB`.padStart(10);
    console.log(`${artifact.path.padEnd(width)}  ${size}  sha256:${artifact.sha256}`);
  }
  console.log(
    `wrote ${resolve(out, 'manifest.json')} (${manifest.artifacts.length} artifacts, node ${manifest.node})`,
  );
} catch (err) {
  console.error(`package: ${(err as Error).message}`);
  process.exit(1);
}
