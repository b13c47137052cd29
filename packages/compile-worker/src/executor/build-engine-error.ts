import { SpotjobsError } from '@spotjobs/core';

/** What the executor was doing when the machine failed it. */
export type BuildEngineStage = 'image' | 'pkgdir' | 'container' | 'process' | 'collect';

/**
 * The build machinery failed, not the package: Docker unreachable, the image missing and not
 * pullable, PKGDIR unreadable, a child process that could not start. Retry the job (here or
 * on another host); do not record the package as failed.
 *
 * @example
 * ```ts
 * try { await executor.build(request); }
 * catch (err) { if (err instanceof BuildEngineError) throw new RetryJobError(err.message, { cause: err }); throw err; }
 * ```
 */
export class BuildEngineError extends SpotjobsError {
  readonly code = 'BUILD_ENGINE';
  readonly stage: BuildEngineStage;
  constructor(stage: BuildEngineStage, message: string, options?: { cause?: unknown }) {
    super(`${stage}: ${message}`, options);
    this.stage = stage;
  }
}
