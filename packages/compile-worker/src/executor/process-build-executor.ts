import { type Clock, type Logger, silentLogger, systemClock, ValidationError } from '@spotjobs/core';
import type { BuildExecutor, BuildRequest, BuildResult } from './build-executor.ts';
import { ProcessSandbox } from './process-sandbox.ts';
import { runBuild } from './run-build.ts';

export interface ProcessBuildExecutorOptions {
  /** Host directory for per-job work directories (build log, binary package). */
  readonly workDir: string;
  /** The emerge to run: a path, or a name looked up on PATH. Default `emerge`. */
  readonly emerge?: string;
  /**
   * Variables the steps see besides `PATH` (this process's) and `USE`/`PKGDIR` (the executor's),
   * e.g. `PORTAGE_CONFIGROOT`. Nothing else of this process's environment is passed on: a build
   * must not see the worker's credentials.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Wall-clock limit per build. Default 2 h. */
  readonly timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when the build is aborted. Default 10 s. */
  readonly stopGraceMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/**
 * The same two steps as `ContainerBuildExecutor`, as child processes on this host, for machines
 * where no Docker Engine answers. Same argv, same environment rules, same verdicts; what it
 * cannot give: isolation and the memory, CPU and pids limits (only the wall-clock limit
 * applies), and a fresh root filesystem per job (the first step installs dependencies into
 * this host). Portage's PKGDIR on this host is the binpkg cache.
 *
 * @example
 * ```ts
 * const executor = new ProcessBuildExecutor({ workDir: '/var/lib/spotjobs/builds' });
 * logger.warn('no Docker Engine answers: building with host processes (no isolation, no limits but time)');
 * const result = await executor.build({ cpv: 'app-misc/ranger-1.8.1', use: [], jobId, signal });
 * ```
 */
export class ProcessBuildExecutor implements BuildExecutor {
  readonly kind = 'process';
  readonly #workDir: string;
  readonly #emerge: string;
  readonly #baseEnv: Readonly<Record<string, string>>;
  readonly #timeoutMs: number;
  readonly #stopGraceMs: number;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(options: ProcessBuildExecutorOptions) {
    const issues: string[] = [];
    if (!options.workDir) issues.push('workDir is required');
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) issues.push('timeoutMs must be > 0');
    if (options.stopGraceMs !== undefined && !(options.stopGraceMs >= 0))
      issues.push('stopGraceMs must be >= 0');
    for (const name of ['USE', 'PKGDIR']) {
      if (options.env && name in options.env) issues.push(`env must not set ${name}: the executor does`);
    }
    if (issues.length > 0) throw new ValidationError('invalid ProcessBuildExecutor options', issues);
    this.#workDir = options.workDir;
    this.#emerge = options.emerge ?? 'emerge';
    this.#baseEnv = Object.freeze({
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...options.env,
    });
    this.#timeoutMs = options.timeoutMs ?? 2 * 60 * 60 * 1000;
    this.#stopGraceMs = options.stopGraceMs ?? 10_000;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? systemClock;
  }

  build(request: BuildRequest): Promise<BuildResult> {
    return runBuild(request, {
      workDir: this.#workDir,
      timeoutMs: this.#timeoutMs,
      clock: this.#clock,
      logger: this.#logger,
      openSandbox: async ({ jobDir, log }) => {
        log.note(`host processes, emerge ${this.#emerge} (no container: no isolation, no limits but time)`);
        return new ProcessSandbox(jobDir, {
          emerge: this.#emerge,
          baseEnv: this.#baseEnv,
          stopGraceMs: this.#stopGraceMs,
        });
      },
    });
  }
}
