import { mkdir } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { type Clock, type Logger, silentLogger, systemClock, ValidationError } from '@spotjobs/core';
import { BuildEngineError } from './build-engine-error.ts';
import type { BuildExecutor, BuildRequest, BuildResult } from './build-executor.ts';
import { ProcessSandbox } from './process-sandbox.ts';
import { runBuild } from './run-build.ts';

export interface ProcessBuildExecutorOptions {
  /** Host directory for per-job work directories (build log, binary package). */
  readonly workDir: string;
  /** The emerge to run: a path, or a name looked up on PATH. Default `emerge`. */
  readonly emerge?: string;
  /**
   * The binpkg cache: an absolute host directory (created if missing) given to the deps step as
   * its `PKGDIR`, as `ContainerBuildExecutor` mounts its `cacheDir` at the image's PKGDIR.
   * Default: Portage's own PKGDIR on this host.
   */
  readonly cacheDir?: string;
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
 * this host). The binpkg cache is `cacheDir`, else Portage's PKGDIR on this host. A build's
 * `image` is `{ id: 'host', repoDigests: [] }`.
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
  readonly #cacheDir: string | undefined;
  #cacheReady: Promise<void> | undefined;
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
    if (options.cacheDir !== undefined && !isAbsolute(options.cacheDir))
      issues.push('cacheDir must be absolute');
    for (const name of ['USE', 'PKGDIR']) {
      if (options.env && name in options.env) issues.push(`env must not set ${name}: the executor does`);
    }
    if (issues.length > 0) throw new ValidationError('invalid ProcessBuildExecutor options', issues);
    this.#workDir = options.workDir;
    this.#emerge = options.emerge ?? 'emerge';
    this.#cacheDir = options.cacheDir;
    // The package step's own PKGDIR (its output directory) overrides this one.
    this.#baseEnv = Object.freeze({
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...options.env,
      ...(options.cacheDir ? { PKGDIR: options.cacheDir } : {}),
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
      openSandbox: async ({ jobDir, outputDir, log }) => {
        log.note(`host processes, emerge ${this.#emerge} (no container: no isolation, no limits but time)`);
        await this.#ensureCacheDir();
        return new ProcessSandbox(jobDir, outputDir, {
          emerge: this.#emerge,
          baseEnv: this.#baseEnv,
          stopGraceMs: this.#stopGraceMs,
        });
      },
    });
  }

  // Once per executor: the directory is only ever created, never removed, by this process.
  #ensureCacheDir(): Promise<void> {
    const dir = this.#cacheDir;
    if (!dir) return Promise.resolve();
    this.#cacheReady ??= mkdir(dir, { recursive: true }).then(
      () => {},
      (err: unknown) => {
        this.#cacheReady = undefined;
        throw new BuildEngineError('process', `creating the binpkg cache ${dir}`, { cause: err });
      },
    );
    return this.#cacheReady;
  }
}
