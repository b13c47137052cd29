import type Docker from 'dockerode';
import type { BuildImage } from './build-executor.ts';
import type { BuildStep } from './build-steps.ts';
import { runContainerExec } from './container-exec.ts';
import { engineError, ignoreDockerStatus } from './docker-errors.ts';
import type { BuildSandbox } from './run-build.ts';

/**
 * Inside the container, outside the binpkg cache: the `--buildpkgonly` step's PKGDIR, where the
 * job's output directory on the host is bind-mounted. The binary package lands on the host as
 * it is written, so nothing is copied out of the container.
 */
export const CONTAINER_OUTPUT_PKGDIR = '/var/tmp/spotjobs-binpkg-out';

/**
 * One build's container (already started, idling on its keep-alive command): the steps run in it
 * as execs, so the dependencies the first step installs are there for the second. Every engine
 * call that fails becomes a `BuildEngineError` with the engine's words.
 */
export class ContainerSandbox implements BuildSandbox {
  readonly outputPkgdir = CONTAINER_OUTPUT_PKGDIR;
  readonly image: BuildImage;
  readonly #container: Docker.Container;
  readonly #stopTimeoutSeconds: number;

  constructor(container: Docker.Container, image: BuildImage, stopTimeoutSeconds: number) {
    this.#container = container;
    this.image = image;
    this.#stopTimeoutSeconds = stopTimeoutSeconds;
  }

  get id(): string {
    return this.#container.id;
  }

  async run(
    step: BuildStep,
    output: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void,
  ): Promise<number | null> {
    try {
      return await runContainerExec(this.#container, step.argv, step.env, output);
    } catch (err) {
      throw engineError('container', `running the ${step.name} step`, err);
    }
  }

  async kill(): Promise<void> {
    await this.#container.kill({ signal: 'SIGKILL' }).catch(ignoreDockerStatus(404, 409));
  }

  async stop(): Promise<void> {
    await this.#container.stop({ t: this.#stopTimeoutSeconds }).catch(ignoreDockerStatus(304, 404));
  }

  async dispose(): Promise<void> {
    // One call: `force` kills what still runs (the keep-alive, a build's orphans) and removes;
    // `v` drops anonymous volumes (the bind mounts stay). 409: a removal is already under way.
    await this.#container
      .remove({ force: true, v: true, abortSignal: AbortSignal.timeout(60_000) })
      .catch(ignoreDockerStatus(404, 409));
  }
}
