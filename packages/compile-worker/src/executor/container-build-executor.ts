import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { isAbsolute, posix } from 'node:path';
import { type Clock, type Logger, silentLogger, systemClock, ValidationError } from '@spotjobs/core';
import type Docker from 'dockerode';
import { BuildEngineError } from './build-engine-error.ts';
import type { BuildExecutor, BuildRequest, BuildResult } from './build-executor.ts';
import { CONTAINER_OUTPUT_PKGDIR, ContainerSandbox } from './container-sandbox.ts';
import { engineError } from './docker-errors.ts';
import { ensureImage, type ImageApi, type PullProgress, type RegistryAuth } from './image-puller.ts';
import { readPortagePkgdir } from './portage-pkgdir.ts';
import { type BuildSandbox, runBuild, type SandboxContext } from './run-build.ts';

export interface ContainerBuildExecutorOptions {
  /** A dockerode client (`new Docker()` reads `DOCKER_HOST` or uses `/var/run/docker.sock`). */
  readonly docker: Docker;
  /** The builder image: Gentoo with Portage (`emerge`, `portageq`) and the wanted make.conf. */
  readonly image: string;
  /**
   * Host directory for per-job work directories (build log, binary package). Each job's
   * output directory in it is bind-mounted into its container, so the Docker Engine must see
   * this path as this process does (same host, no remote engine).
   */
  readonly workDir: string;
  /**
   * The shared binpkg cache: an absolute host directory (created if missing), bind-mounted at
   * the image's Portage PKGDIR in every build. Plain files, so the daemon prunes it by size.
   */
  readonly cacheDir: string;
  /**
   * A Portage tree on the host (absolute), bind-mounted read-only at `treeMountPath` in every
   * build and PKGDIR probe; refreshed outside the builds (`emerge --sync` in a separate
   * container). Default: none, the image's own tree.
   */
  readonly treeDir?: string;
  /** Where `treeDir` is mounted in the container. Default `/var/db/repos/gentoo`. */
  readonly treeMountPath?: string;
  /** Memory limit per build, bytes; swap is not allowed on top. Default: 3/4 of this host's memory. */
  readonly memoryBytes?: number;
  /** CPUs per build (fractions allowed). Default: all of this host's. */
  readonly cpus?: number;
  /** Process limit per build. Default 4096. */
  readonly pidsLimit?: number;
  /** Wall-clock limit per build, from its container being ready to its artifact copied out. Default 2 h. */
  readonly timeoutMs?: number;
  /** Grace given to a build on abort before the engine kills it. Default 10 s. */
  readonly stopTimeoutSeconds?: number;
  /**
   * The containers' network (`none`, `bridge`, a user network). Default: the engine's default,
   * which emerge needs to fetch sources; `none` for images that carry their distfiles.
   */
  readonly networkMode?: string;
  /** Capabilities added to the build container. Default `['SYS_PTRACE']` (Portage's sandbox, as Pacloud ran). */
  readonly capAdd?: readonly string[];
  /** Labels added to every container (e.g. a test-run id). */
  readonly labels?: Readonly<Record<string, string>>;
  /** What the container runs while the steps run beside it as execs. Default `['sleep', 'infinity']`. */
  readonly keepAliveCommand?: readonly string[];
  readonly registryAuth?: RegistryAuth;
  /** Every progress event of an image pull (the logger gets each layer's status changes). */
  readonly onPullProgress?: (event: PullProgress) => void;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

interface Settings {
  readonly docker: Docker;
  readonly image: string;
  readonly workDir: string;
  readonly cacheDir: string;
  readonly tree: { readonly dir: string; readonly mountPath: string } | undefined;
  readonly memoryBytes: number;
  readonly nanoCpus: number;
  readonly pidsLimit: number;
  readonly timeoutMs: number;
  readonly stopTimeoutSeconds: number;
  readonly networkMode: string | undefined;
  readonly capAdd: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly keepAliveCommand: readonly string[];
  readonly registryAuth: RegistryAuth | undefined;
  readonly onPullProgress: ((event: PullProgress) => void) | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Labels every container this executor creates carries, for `docker ps --filter label=`. */
export const BuildLabels = {
  role: 'spotjobs.role',
  jobId: 'spotjobs.job-id',
} as const;

/**
 * Builds each job in a fresh Docker container:
 *
 * ```
 * image present? else pull (progress events)      once per image id: portageq envvar PKGDIR
 * create container: keep-alive command, init, limits (memory, CPU, pids), labels, bind mounts:
 *                   cacheDir at PKGDIR, the job's output dir at /var/tmp/spotjobs-binpkg-out,
 *                   treeDir read-only at treeMountPath (when given)
 * exec 1: USE=… emerge --onlydeps --onlydeps-with-rdeps n =cpv
 * exec 2: USE=… PKGDIR=/var/tmp/spotjobs-binpkg-out emerge --buildpkgonly =cpv
 * read the binary package from the host, sha256 while copying -> result
 * remove the container (force), always: in the background after a result (`removed`)
 * ```
 *
 * One container, two execs (not a container per step): `--buildpkgonly` needs the dependencies
 * that the first step *installed* into the container's root filesystem, which a second
 * container would not have.
 *
 * @example
 * ```ts
 * const executor = new ContainerBuildExecutor({ docker: new Docker(), image: 'spotjobs/gentoo-builder:latest',
 *   workDir: '/var/lib/spotjobs/builds', cacheDir: '/var/cache/spotjobs/binpkgs', memoryBytes: 4 * 2 ** 30, cpus: 2 });
 * const result = await executor.build({ cpv: 'app-misc/ranger-1.8.1', use: ['-test'], jobId, signal });
 * if (result.ok) await upload(result.artifact.path, result.artifact.sha256);
 * await result.removed;
 * ```
 */
export class ContainerBuildExecutor implements BuildExecutor {
  readonly kind = 'container';
  readonly #settings: Settings;
  readonly #pkgdirs = new Map<string, Promise<string>>();
  #hostDirs: Promise<void> | undefined;

  constructor(options: ContainerBuildExecutorOptions) {
    this.#settings = compile(options);
  }

  build(request: BuildRequest): Promise<BuildResult> {
    const { timeoutMs, workDir, clock, logger } = this.#settings;
    return runBuild(request, {
      workDir,
      timeoutMs,
      clock,
      logger,
      openSandbox: (context) => this.#open(context),
    });
  }

  async #open({ jobId, outputDir, log, signal }: SandboxContext): Promise<BuildSandbox> {
    const s = this.#settings;
    const images: ImageApi = {
      getImage: (name) => ({ inspect: () => s.docker.getImage(name).inspect() }),
      // Credentials go as dockerode's 4th argument (the X-Registry-Auth header); inside the options
      // object they would also be copied into the query string.
      pull: (ref, { abortSignal, auth }) =>
        s.docker.pull(
          ref,
          { abortSignal },
          undefined as never,
          auth,
        ) as unknown as Promise<NodeJS.ReadableStream>,
    };
    // The host directories are checked while the engine looks the image up.
    const [image] = await Promise.all([
      ensureImage(images, s.image, {
        signal,
        logger: s.logger,
        clock: s.clock,
        ...(s.onPullProgress ? { onProgress: s.onPullProgress } : {}),
        ...(s.registryAuth ? { auth: s.registryAuth } : {}),
      }),
      this.#ensureHostDirs(),
    ]);
    if (image.pulled) log.note(`pulled image ${s.image}`);
    const pkgdir = await this.#pkgdirOf(image.id);
    const tree = s.tree ? `; Portage tree ${s.tree.dir} at ${s.tree.mountPath} (read-only)` : '';
    log.note(`image ${s.image} (${image.id}); binpkg cache ${s.cacheDir} at PKGDIR ${pkgdir}${tree}`);

    // No abortSignal on create: a create cancelled in flight may still make a container we would
    // never hear of. The caller checks the signal once this returns, and disposes.
    let container: Docker.Container;
    try {
      container = await s.docker.createContainer({
        name: `spotjobs-build-${jobId}-${randomBytes(3).toString('hex')}`,
        Image: image.id,
        Entrypoint: [...s.keepAliveCommand],
        Cmd: [],
        Labels: { ...s.labels, [BuildLabels.role]: 'compile-build', [BuildLabels.jobId]: jobId },
        HostConfig: {
          ...this.#hostConfig(),
          Mounts: [
            { Type: 'bind', Source: s.cacheDir, Target: pkgdir },
            { Type: 'bind', Source: outputDir, Target: CONTAINER_OUTPUT_PKGDIR },
            ...this.#treeMounts(),
          ],
        },
      });
    } catch (err) {
      throw engineError('container', `creating the build container from ${s.image}`, err);
    }
    const sandbox = new ContainerSandbox(
      container,
      { id: image.id, repoDigests: image.repoDigests },
      s.stopTimeoutSeconds,
    );
    try {
      await container.start();
    } catch (err) {
      await sandbox.dispose().catch(() => {});
      throw engineError('container', 'starting the build container', err);
    }
    log.note(`container ${container.id.slice(0, 12)} started`);
    return sandbox;
  }

  #hostConfig(): Docker.HostConfig {
    const s = this.#settings;
    return {
      // An init as PID 1 reaps the build's orphans and ends the keep-alive on stop at once.
      Init: true,
      Memory: s.memoryBytes,
      MemorySwap: s.memoryBytes,
      NanoCpus: s.nanoCpus,
      PidsLimit: s.pidsLimit,
      CapAdd: [...s.capAdd],
      ...(s.networkMode ? { NetworkMode: s.networkMode } : {}),
    };
  }

  // The Portage tree, read-only: builds never write it (a separate task syncs it).
  #treeMounts(): Docker.MountSettings[] {
    const { tree } = this.#settings;
    return tree ? [{ Type: 'bind', Source: tree.dir, Target: tree.mountPath, ReadOnly: true }] : [];
  }

  // Once per image id: an image's make.conf does not change under the same id. The probe sees
  // the tree too: Portage reads its profile (a link into the tree) before it answers.
  #pkgdirOf(imageId: string): Promise<string> {
    let pending = this.#pkgdirs.get(imageId);
    if (!pending) {
      const s = this.#settings;
      pending = readPortagePkgdir(s.docker, imageId, {
        name: `spotjobs-pkgdir-${randomBytes(4).toString('hex')}`,
        Labels: { ...s.labels, [BuildLabels.role]: 'compile-pkgdir' },
        HostConfig: { ...this.#hostConfig(), Mounts: this.#treeMounts() },
      }).then(
        (pkgdir) => {
          const clash = [CONTAINER_OUTPUT_PKGDIR, s.tree?.mountPath].find(
            (path) => path !== undefined && overlaps(path, pkgdir),
          );
          if (clash) {
            throw new BuildEngineError('pkgdir', `PKGDIR ${pkgdir} of ${s.image} overlaps ${clash}`);
          }
          return pkgdir;
        },
        (err: unknown) => {
          throw engineError('pkgdir', `reading PKGDIR from ${s.image}`, err);
        },
      );
      pending.catch(() => this.#pkgdirs.delete(imageId));
      this.#pkgdirs.set(imageId, pending);
    }
    return pending;
  }

  // Once per executor: the cache directory is created (the daemon may start on a fresh host)
  // and the tree checked, so a wrong path says so instead of failing inside the engine.
  #ensureHostDirs(): Promise<void> {
    const { cacheDir, tree } = this.#settings;
    this.#hostDirs ??= (async () => {
      await mkdir(cacheDir, { recursive: true }).catch((err: unknown) => {
        throw new BuildEngineError('container', `creating the binpkg cache ${cacheDir}`, { cause: err });
      });
      if (!tree) return;
      const found = await stat(tree.dir).catch((err: unknown) => {
        throw new BuildEngineError('container', `the Portage tree ${tree.dir} is missing`, { cause: err });
      });
      if (!found.isDirectory()) {
        throw new BuildEngineError('container', `the Portage tree ${tree.dir} is not a directory`);
      }
    })();
    this.#hostDirs.catch(() => {
      this.#hostDirs = undefined;
    });
    return this.#hostDirs;
  }
}

/** Whether one of two absolute container paths is the other or inside it. */
function overlaps(a: string, b: string): boolean {
  const inside = (child: string, parent: string) => child === parent || child.startsWith(`${parent}/`);
  return inside(posix.normalize(a), posix.normalize(b)) || inside(posix.normalize(b), posix.normalize(a));
}

function compile(options: ContainerBuildExecutorOptions): Settings {
  const issues: string[] = [];
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) issues.push(`${name} must be > 0`);
  };
  positive('memoryBytes', options.memoryBytes);
  positive('cpus', options.cpus);
  positive('pidsLimit', options.pidsLimit);
  positive('timeoutMs', options.timeoutMs);
  if (options.stopTimeoutSeconds !== undefined && !(options.stopTimeoutSeconds >= 0)) {
    issues.push('stopTimeoutSeconds must be >= 0');
  }
  if (!options.image) issues.push('image is required');
  if (!options.workDir) issues.push('workDir is required');
  if (!options.cacheDir || !isAbsolute(options.cacheDir)) issues.push('cacheDir must be an absolute path');
  if (options.treeDir !== undefined && !isAbsolute(options.treeDir)) {
    issues.push('treeDir must be an absolute path');
  }
  const treeMountPath = posix.normalize(options.treeMountPath ?? '/var/db/repos/gentoo');
  if (!posix.isAbsolute(treeMountPath) || treeMountPath === '/') {
    issues.push('treeMountPath must be an absolute path below /');
  } else if (overlaps(treeMountPath, CONTAINER_OUTPUT_PKGDIR)) {
    issues.push(`treeMountPath must not overlap ${CONTAINER_OUTPUT_PKGDIR}`);
  }
  if (options.keepAliveCommand && options.keepAliveCommand.length === 0)
    issues.push('keepAliveCommand is empty');
  if (issues.length > 0) throw new ValidationError('invalid ContainerBuildExecutor options', issues);
  return Object.freeze({
    docker: options.docker,
    image: options.image,
    workDir: options.workDir,
    cacheDir: options.cacheDir,
    tree: options.treeDir ? { dir: options.treeDir, mountPath: treeMountPath } : undefined,
    memoryBytes: Math.floor(options.memoryBytes ?? totalmem() * 0.75),
    nanoCpus: Math.round((options.cpus ?? availableParallelism()) * 1e9),
    pidsLimit: Math.floor(options.pidsLimit ?? 4096),
    timeoutMs: options.timeoutMs ?? 2 * 60 * 60 * 1000,
    stopTimeoutSeconds: options.stopTimeoutSeconds ?? 10,
    networkMode: options.networkMode,
    capAdd: options.capAdd ?? ['SYS_PTRACE'],
    labels: { ...options.labels },
    keepAliveCommand: options.keepAliveCommand ?? ['sleep', 'infinity'],
    registryAuth: options.registryAuth,
    onPullProgress: options.onPullProgress,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  });
}
