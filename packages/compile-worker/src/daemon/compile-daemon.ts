import {
  type BlobStore,
  type Clock,
  type InterruptionOptions,
  type Logger,
  type Queue,
  Runner,
} from '@spotjobs/core';
import { COMPILE_JOB_TYPE } from '../build/build-message.ts';
import type { BuildService } from '../build/build-service.ts';
import type { BuildExecutor } from '../executor/build-executor.ts';
import { buildJob } from './build-job.ts';

export interface CompileDaemonOptions {
  /** The build queue (SQS, or the local queue the request API sends to). */
  readonly queue: Queue;
  readonly builds: BuildService;
  /** Artifacts and logs (S3, or local files). */
  readonly blobs: BlobStore;
  readonly executor: BuildExecutor;
  /** This host, recorded on every attempt. */
  readonly workerId: string;
  /** Builds at once. Default 1 (one build per host, as Pacloud ran). */
  readonly concurrency?: number;
  /** Lease per delivery, renewed by heartbeats while the build runs. Default 120. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * The executor's wall-clock limit per build. The runner's job timeout is this plus
   * `transferAllowanceMs`, so a slow build gets its `timeout` verdict from the executor, with
   * its log, before the runner gives up on the job.
   */
  readonly buildTimeoutMs: number;
  /** Image pull and uploads on top of the build. Default 15 min. */
  readonly transferAllowanceMs?: number;
  /** How long `stop()` lets running builds finish before stopping them and releasing. Default 30 s. */
  readonly shutdownGraceMs?: number;
  /** Deliveries before a message that keeps failing on machine faults is dead-lettered. Default `COMPILE_MAX_DELIVERIES`. */
  readonly maxAttempts?: number;
  readonly interruptions?: InterruptionOptions;
  /** Drain on SIGTERM / SIGINT. Default false (the daemon's entry turns it on). */
  readonly handleSignals?: boolean;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * Deliveries of one build message before the daemon dead-letters it with its reason. An SQS
 * redrive `maxReceiveCount` at or above it leaves that verdict to the daemon.
 */
export const COMPILE_MAX_DELIVERIES = 5;

/**
 * The build daemon: a core `Runner` on the build queue whose one job is `buildJob`, plus the
 * reclaim pass the request path relies on (schedule it with `runner.schedule`). Everything spot
 * comes from the runner: on a terminate notice running builds are aborted (the executor stops
 * and removes their containers), given back and released before the deadline; a hibernate
 * notice follows the configured policy; after a resume every lease and claim is re-validated
 * before a result is written.
 *
 * @example
 * ```ts
 * const runner = await createCompileDaemon({ queue, builds, blobs, executor, workerId: hostname(),
 *   buildTimeoutMs: 2 * 3600_000, handleSignals: true, interruptions: { sources: [new ImdsInterruptionSource()] } });
 * runner.schedule('reclaim-stuck-builds', '*\/5 * * * *', (signal) => builds.reclaimStuck(signal).then(() => {}));
 * await runner.run();
 * ```
 */
export function createCompileDaemon(options: CompileDaemonOptions): Promise<Runner> {
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 120;
  return Runner.create({
    queue: options.queue,
    concurrency: options.concurrency ?? 1,
    visibilityTimeoutSeconds,
    jobTimeoutMs: options.buildTimeoutMs + (options.transferAllowanceMs ?? 15 * 60_000),
    // The executor stops a container within its stop timeout (10 s) once aborted.
    abortGraceMs: 20_000,
    maxAttempts: options.maxAttempts ?? COMPILE_MAX_DELIVERIES,
    shutdownGraceMs: options.shutdownGraceMs ?? 30_000,
    // One message per free slot: a build host never takes work it cannot start.
    pollLingerMs: 0,
    ...(options.interruptions ? { interruptions: options.interruptions } : {}),
    ...(options.handleSignals !== undefined ? { handleSignals: options.handleSignals } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    jobs: {
      [COMPILE_JOB_TYPE]: buildJob({
        builds: options.builds,
        blobs: options.blobs,
        executor: options.executor,
        workerId: options.workerId,
        claimTtlMs: visibilityTimeoutSeconds * 1000,
      }),
    },
  });
}
