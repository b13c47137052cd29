// startCompileWorker with Docker on the embedded default: containers a killed run of this worker
// left are removed and a missing Portage tree is synced before the first build is taken, and the maintenance tasks run on their cron schedules (here every
// second): the binpkg cache is pruned to its limit and the tree refreshed, nothing else touched.
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordingLogger } from '@spotjobs/core/testing';
import type Docker from 'dockerode';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startCompileWorker, WORKER_LABEL } from '../src/daemon/compile-worker.ts';
import { BuildLabels } from '../src/executor/container-build-executor.ts';
import { useDockerTestFile } from './support/docker-test-file.ts';
import { TEST_RUN_LABEL } from './support/executor-docker.ts';
import { tempDir } from './support/local-builds.ts';

let docker: Docker;
let image: string;
const runId = useDockerTestFile('compile-worker-maintenance-', (env) => ({ docker, image } = env));

describe('startCompileWorker maintenance', () => {
  it('sweeps its own leftover containers and syncs a missing tree before taking builds, then prunes the cache and refreshes the tree on cron', async () => {
    const dir = await tempDir();
    const cacheDir = join(dir, 'binpkgs');
    await mkdir(join(cacheDir, 'dev-libs'), { recursive: true });
    // Three 1 KiB packages last used 60, 30 and 10 minutes ago; the limit keeps two.
    for (const [name, age] of [
      ['old-1.0.gpkg.tar', 60],
      ['mid-1.0.gpkg.tar', 30],
      ['new-1.0.gpkg.tar', 10],
    ] as const) {
      const path = join(cacheDir, 'dev-libs', name);
      await writeFile(path, Buffer.alloc(1024));
      const at = new Date(Date.now() - age * 60_000);
      await utimes(path, at, at);
    }
    await writeFile(join(cacheDir, 'Packages'), 'index');

    // A build container a killed run of this worker left, and one of another worker on the host.
    const workerId = `worker-${runId}`;
    const leftover = async (worker: string) => {
      const container = await docker.createContainer({
        Image: image,
        Entrypoint: ['sleep', 'infinity'],
        Labels: { [TEST_RUN_LABEL]: runId, [BuildLabels.role]: 'compile-build', [WORKER_LABEL]: worker },
        HostConfig: { NetworkMode: 'none' },
      });
      await container.start();
      return container.id;
    };
    const mine = await leftover(workerId);
    const theirs = await leftover(`other-${runId}`);

    const config = loadConfig({
      SPOTJOBS_COMPILE_DATA_DIR: join(dir, 'data'),
      SPOTJOBS_COMPILE_WORKER_ID: workerId,
      SPOTJOBS_COMPILE_EXECUTOR: 'container',
      SPOTJOBS_COMPILE_BUILDER_IMAGE: image,
      SPOTJOBS_COMPILE_CACHE_DIR: cacheDir,
      SPOTJOBS_COMPILE_CACHE_MAX_GIB: String(2100 / 2 ** 30),
      SPOTJOBS_COMPILE_TREE_DIR: join(dir, 'portage'),
      SPOTJOBS_COMPILE_BUILD_NETWORK: 'none',
      SPOTJOBS_SLEEP_SOCKET: join(dir, 'sleep.sock'),
      SPOTJOBS_COMPILE_HEALTH_PORT: '0',
      SPOTJOBS_COMPILE_CRON_PRUNE: '* * * * * *',
      SPOTJOBS_COMPILE_CRON_TREE_REFRESH: '*/2 * * * * *',
      SPOTJOBS_COMPILE_CRON_RECLAIM: '* * * * * *',
    });
    const logger = recordingLogger();
    const worker = await startCompileWorker(config, {
      logger,
      docker,
      containerLabels: { [TEST_RUN_LABEL]: runId },
      handleSignals: false,
    });
    onTestFinished(() => worker.stop());
    const alive = async (id: string) =>
      (
        await docker
          .getContainer(id)
          .inspect()
          .catch(() => undefined)
      )?.State.Running;
    expect(await alive(mine)).toBeUndefined();
    expect(await alive(theirs)).toBe(true);
    // The tree exists before the runner takes work.
    const firstSync = await readFile(join(dir, 'portage', 'metadata', 'standin-sync-count'), 'utf8');
    expect(Number(firstSync)).toBeGreaterThanOrEqual(1);

    const ran = new Set<string>();
    worker.runner.on('task:ran', (task) => {
      if (!task.error) ran.add(task.name);
    });
    await vi.waitFor(
      () => expect([...ran].sort()).toEqual(['prune', 'reclaim-stuck-builds', 'refresh-portage-tree']),
      { timeout: 30_000, interval: 100 },
    );
    await expect(stat(join(cacheDir, 'dev-libs', 'old-1.0.gpkg.tar'))).rejects.toThrow(/ENOENT/);
    for (const kept of ['dev-libs/mid-1.0.gpkg.tar', 'dev-libs/new-1.0.gpkg.tar', 'Packages'])
      expect((await stat(join(cacheDir, kept))).isFile()).toBe(true);
    const syncs = Number(await readFile(join(dir, 'portage', 'metadata', 'standin-sync-count'), 'utf8'));
    expect(syncs).toBeGreaterThan(Number(firstSync));
  }, 120_000);
});
