import type { Logger } from '@spotjobs/core';
import Docker from 'dockerode';
import type { WorkerConfig } from '../config.ts';
import type { BuildExecutor } from '../executor/build-executor.ts';
import { ContainerBuildExecutor } from '../executor/container-build-executor.ts';
import { dockerEngineAnswers } from '../executor/engine-probe.ts';
import { ProcessBuildExecutor } from '../executor/process-build-executor.ts';

/**
 * The executor the configuration asks for. `auto` takes Docker when an engine answers within a
 * few seconds, and otherwise host processes, saying so loudly: without Docker a build has no
 * isolation and no limits but its wall-clock one. `container` insists on Docker (builds then fail
 * as machine faults, and are retried, until an engine answers).
 *
 * @example
 * ```ts
 * const executor = await chooseExecutor(config.worker, { logger });
 * logger.info({ executor: executor.kind }, 'executor chosen');
 * ```
 */
export async function chooseExecutor(
  worker: WorkerConfig,
  options: { readonly logger: Logger; readonly docker?: Docker; readonly labels?: Record<string, string> },
): Promise<BuildExecutor> {
  const { logger } = options;
  const docker = options.docker ?? new Docker();
  const answers = worker.executor === 'process' ? false : await dockerEngineAnswers(docker);
  if (worker.executor === 'process' || (worker.executor === 'auto' && !answers)) {
    if (worker.executor === 'auto')
      logger.warn(
        'no Docker Engine answers: building with HOST PROCESSES (ProcessBuildExecutor): no container, ' +
          'no isolation, no memory/CPU/pids limits (only the wall-clock one); emerge runs on this host',
      );
    return new ProcessBuildExecutor({
      workDir: worker.workDir,
      emerge: worker.emerge,
      cacheDir: worker.cacheDir,
      timeoutMs: worker.build.timeoutMs,
      logger,
    });
  }
  if (!answers) logger.error('SPOTJOBS_COMPILE_EXECUTOR=container but no Docker Engine answers yet');
  return new ContainerBuildExecutor({
    docker,
    image: worker.builderImage,
    workDir: worker.workDir,
    cacheDir: worker.cacheDir,
    ...(worker.treeDir ? { treeDir: worker.treeDir } : {}),
    ...(worker.build.memoryBytes ? { memoryBytes: worker.build.memoryBytes } : {}),
    ...(worker.build.cpus ? { cpus: worker.build.cpus } : {}),
    pidsLimit: worker.build.pidsLimit,
    timeoutMs: worker.build.timeoutMs,
    ...(worker.build.network ? { networkMode: worker.build.network } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    logger,
  });
}
