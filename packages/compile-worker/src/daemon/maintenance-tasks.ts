import type { Logger, Runner } from '@spotjobs/core';
import type Docker from 'dockerode';
import type { BuildService } from '../build/build-service.ts';
import type { WorkerConfig } from '../config.ts';
import { pruneBinpkgCache } from '../maintenance/binpkg-cache-prune.ts';
import { pruneImages } from '../maintenance/images-prune.ts';
import { refreshPortageTree } from '../maintenance/portage-tree-refresh.ts';
import { pruneStaleContainers } from '../maintenance/stale-containers-prune.ts';
import { TreeGenerations } from '../maintenance/tree-generations.ts';

export interface MaintenanceOptions {
  readonly worker: WorkerConfig;
  readonly builds: BuildService;
  /** The engine builds run on; without it (host processes) only the cache and reclaim tasks run. */
  readonly docker: Docker | undefined;
  /**
   * The labels the executor puts on this worker's containers (its worker id among them), so the
   * prunes only ever see this worker's own.
   */
  readonly labels?: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

/** The daemon's upkeep, each on its own node-cron schedule (runs of one task never overlap). */
export interface Maintenance {
  /**
   * Before taking work: removes this worker's containers a previous run left (a SIGKILL or a
   * watchdog abort gives the executor no chance to), and syncs the Portage tree when it does
   * not exist yet.
   */
  prepare(signal: AbortSignal): Promise<void>;
  schedule(runner: Runner): void;
}

/**
 * The build daemon's cron tasks:
 * - `reclaim-stuck-builds`: records whose owner is gone go back to the queue (every 5 min);
 * - `prune`: exited or overdue build containers, unused builder images, and the binpkg cache
 *   down to its size limit, least recently used first (hourly);
 * - `refresh-portage-tree`: `emerge --sync` on a copy, swapped in atomically (daily; only with
 *   a tree directory and Docker). Running builds keep the tree they started on.
 *
 * @example
 * ```ts
 * const maintenance = compileMaintenance({ worker: config.worker, builds, docker, logger });
 * await maintenance.prepare(signal);
 * maintenance.schedule(runner);
 * ```
 */
export function compileMaintenance(options: MaintenanceOptions): Maintenance {
  const { worker, builds, docker, logger } = options;
  const labels = options.labels ?? {};
  const treeDir = docker ? worker.treeDir : undefined;
  const log = logger.child({ task: 'maintenance' });

  const refresh = async (signal: AbortSignal) => {
    if (!docker || !treeDir) return;
    const report = await refreshPortageTree({
      docker,
      image: worker.builderImage,
      treeDir,
      signal,
      labels,
      // A replaced tree stays while a build that started on it may still run.
      keepRetiredMs: worker.build.timeoutMs + 3_600_000,
      onLog: (line) => log.debug({ stream: line.stream }, line.line),
    });
    if (report.ok) log.info({ report }, 'Portage tree refreshed');
    else log.error({ report }, 'Portage tree refresh failed: builds keep the previous tree');
  };

  return {
    async prepare(signal) {
      if (docker) {
        // Every container with this worker's labels is a leftover: none of its builds runs yet.
        const swept = await pruneStaleContainers({ docker, olderThanMs: 1, minAgeMs: 0, labels, signal });
        if (swept.removed.length > 0)
          log.warn({ removed: swept.removed }, 'removed containers a previous run left');
      }
      if (!treeDir || (await new TreeGenerations(treeDir).live()).kind !== 'missing') return;
      log.info({ treeDir }, 'no Portage tree yet: syncing one before taking builds');
      await refresh(signal);
    },
    schedule(runner) {
      runner.schedule('reclaim-stuck-builds', worker.cron.reclaim, async (signal) => {
        log.info({ report: await builds.reclaimStuck(signal) }, 'reclaim pass');
      });
      runner.schedule('prune', worker.cron.prune, async (signal) => {
        if (docker) {
          const containers = await pruneStaleContainers({
            docker,
            olderThanMs: worker.build.timeoutMs + 600_000,
            labels,
            signal,
          });
          const images = await pruneImages({ docker, keep: [worker.builderImage], signal });
          log.info(
            {
              containers: containers.removed.length,
              images: images.removed.length,
              freedBytes: images.freedBytes,
            },
            'pruned containers and images',
          );
        }
        const cache = await pruneBinpkgCache({
          dir: worker.cacheDir,
          maxBytes: worker.cacheMaxBytes,
          signal,
        });
        log.info({ report: { ...cache, deleted: cache.deleted.length } }, 'pruned the binpkg cache');
      });
      if (treeDir) runner.schedule('refresh-portage-tree', worker.cron.treeRefresh, refresh);
    },
  };
}
