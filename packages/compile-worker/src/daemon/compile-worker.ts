import {
  type BlobStore,
  type HealthServer,
  ImdsInterruptionSource,
  type InterruptionSource,
  instrumentRunner,
  type Logger,
  MetricsRegistry,
  type Queue,
  ResumeDetector,
  type Runner,
  runnerRunningCheck,
  SleepHookSource,
  startHealthServer,
} from '@spotjobs/core';
import { openLocalStore } from '@spotjobs/core/local';
import Docker from 'dockerode';
import { type AwsClients, awsCompileBackend } from '../aws/aws-compile.ts';
import { BuildService } from '../build/build-service.ts';
import type { CompileConfig } from '../config.ts';
import type { BuildExecutor } from '../executor/build-executor.ts';
import { localBuildBlobs, localBuildService } from '../local/local-compile.ts';
import { chooseExecutor } from './choose-executor.ts';
import { createCompileDaemon } from './compile-daemon.ts';
import { compileMaintenance } from './maintenance-tasks.ts';

/** The label naming the worker on each of its containers. */
export const WORKER_LABEL = 'spotjobs.worker-id';

export interface CompileWorkerOptions {
  readonly logger: Logger;
  /** SDK clients for the aws backend (tests point them at emulators). */
  readonly awsClients?: AwsClients;
  readonly docker?: Docker;
  /** Watched besides the configured ones (tests: a `ManualInterruptionSource`). */
  readonly extraInterruptionSources?: readonly InterruptionSource[];
  /** Labels on every container and volume (tests find their own). */
  readonly containerLabels?: Record<string, string>;
  /** Drain on SIGTERM / SIGINT. Default true. */
  readonly handleSignals?: boolean;
}

/** A running build daemon: its runner, what it builds with, and how to stop it. */
export interface CompileWorker {
  readonly runner: Runner;
  readonly builds: BuildService;
  readonly executor: BuildExecutor;
  /** The health and metrics server, unless disabled (`SPOTJOBS_COMPILE_HEALTH_PORT=0`). */
  readonly health: HealthServer | undefined;
  /** Settles once the runner has stopped and everything is closed. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `spotjobs-compile-worker` from its configuration: the backend (embedded default or AWS),
 * the executor (Docker when an engine answers), the Portage tree when it is missing, the runner
 * with the spot sources (IMDS on EC2, the system-sleep hook, resume detection), the maintenance
 * cron tasks, metrics and health.
 *
 * @example
 * ```ts
 * const worker = await startCompileWorker(loadConfig(), { logger });
 * await worker.done;
 * ```
 */
export async function startCompileWorker(
  config: CompileConfig,
  options: CompileWorkerOptions,
): Promise<CompileWorker> {
  const { logger } = options;
  const w = config.worker;
  const backend = await openBackend(config, options);
  const docker = options.docker ?? new Docker();
  // The worker id on every container: the start-up sweep and the prunes touch only this worker's.
  const labels = { ...options.containerLabels, [WORKER_LABEL]: w.workerId };
  const executor = await chooseExecutor(w, { logger, docker, labels });
  const maintenance = compileMaintenance({
    worker: w,
    builds: backend.builds,
    docker: executor.kind === 'container' ? docker : undefined,
    labels,
    logger,
  });
  await maintenance.prepare(AbortSignal.timeout(3_600_000));
  const sources: InterruptionSource[] = [
    new SleepHookSource({ socketPath: w.sleepSocket }),
    new ResumeDetector(),
    ...(w.imds ? [new ImdsInterruptionSource()] : []),
    ...(options.extraInterruptionSources ?? []),
  ];
  const runner = await createCompileDaemon({
    queue: backend.queue,
    builds: backend.builds,
    blobs: backend.blobs,
    executor,
    workerId: w.workerId,
    concurrency: w.concurrency,
    visibilityTimeoutSeconds: w.visibilitySeconds,
    buildTimeoutMs: w.build.timeoutMs,
    shutdownGraceMs: w.shutdownGraceMs,
    interruptions: { sources, hibernate: w.hibernate },
    handleSignals: options.handleSignals ?? true,
    logger,
  });
  maintenance.schedule(runner);

  const registry = new MetricsRegistry();
  instrumentRunner(runner, registry, { queue: 'compile' });
  const health =
    w.healthPort > 0
      ? await startHealthServer({
          port: w.healthPort,
          registry,
          checks: { runner: runnerRunningCheck(runner) },
          logger,
        })
      : undefined;

  logger.info(
    {
      workerId: w.workerId,
      executor: executor.kind,
      concurrency: w.concurrency,
      backend: config.backend,
      health: health?.url,
    },
    'spotjobs-compile-worker running',
  );
  const done = runner.run().finally(async () => {
    await health?.close();
    await backend.close();
  });
  return {
    runner,
    builds: backend.builds,
    executor,
    health,
    done,
    async stop() {
      await runner.stop();
      await done;
    },
  };
}

interface WorkerBackend {
  readonly queue: Queue;
  readonly builds: BuildService;
  readonly blobs: BlobStore;
  close(): Promise<void>;
}

async function openBackend(config: CompileConfig, options: CompileWorkerOptions): Promise<WorkerBackend> {
  const common = { profile: config.profile, policy: config.policy, logger: options.logger };
  if (config.aws) {
    const aws = awsCompileBackend(config.aws, options.awsClients);
    return {
      queue: aws.queue,
      blobs: aws.blobs,
      builds: new BuildService({ ...common, table: aws.table, queue: aws.queue }),
      close: async () => {},
    };
  }
  const store = await openLocalStore({ dataDir: config.local.dataDir });
  return {
    queue: store.queue(config.local.queueName),
    blobs: localBuildBlobs(store),
    builds: localBuildService({
      ...common,
      store,
      queueName: config.local.queueName,
      tableName: config.local.tableName,
    }),
    close: () => store.close(),
  };
}
