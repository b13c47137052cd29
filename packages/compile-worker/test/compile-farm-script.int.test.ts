// README command one, `scripts/compile-farm.sh --once`, as a user runs it: the request API and
// the build daemon start on the embedded default, the sample build goes queued → building →
// ready, its artifact is downloaded and verified, and the second request is served from the
// cache; both processes are gone afterwards.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/local-builds.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/compile-farm.sh', import.meta.url));

async function farmOnce(env: Record<string, string>) {
  const dataDir = await tempDir();
  const { stdout, stderr } = await run('bash', [script, '--once'], {
    env: { ...process.env, SPOTJOBS_COMPILE_DATA_DIR: dataDir, ...env },
    timeout: 300_000,
    maxBuffer: 16 * 2 ** 20,
  });
  return { output: `${stdout}${stderr}`, dataDir };
}

/** Processes started for this data directory that still run (none may, once the script is done). */
async function leftovers(dataDir: string): Promise<number[]> {
  const mine: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`).catch(() => Buffer.alloc(0));
    if (environ.toString('utf8').split('\0').includes(`SPOTJOBS_COMPILE_DATA_DIR=${dataDir}`))
      mine.push(Number(entry));
  }
  return mine;
}

describe('scripts/compile-farm.sh --once', () => {
  it('serves the sample in a container: queued → building → ready, verified download, then the cache', async () => {
    const { output, dataDir } = await farmOnce({});
    expect(output).toMatch(/builds run in containers of spotjobs-builder-test:/);
    expect(output).toMatch(/spotjobs-compile-worker running \(container\)/);
    const states = [...output.matchAll(/^\[[\d.ms]+\] (queued|building|ready)/gm)].map((m) => m[1]);
    expect(states).toEqual(['queued', 'building', 'ready', 'ready']);
    expect(output).toMatch(/sha256 [0-9a-f]{64} verified/);
    expect(output).toMatch(/served from the cache/);
    expect(await readdir(join(dataDir, 'downloads'))).toEqual(['hello-2.12.gpkg.tar']);
    expect(await leftovers(dataDir)).toEqual([]);
  }, 300_000);

  it('builds with host processes when asked to, and still serves the sample end to end', async () => {
    const { output, dataDir } = await farmOnce({ SPOTJOBS_COMPILE_EXECUTOR: 'process' });
    expect(output).toMatch(/spotjobs-compile-worker running \(process\)/);
    expect(output).toMatch(/no container: no isolation/);
    expect(output).toMatch(/served from the cache/);
    expect(await leftovers(dataDir)).toEqual([]);
  }, 300_000);
});
