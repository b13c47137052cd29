import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import { type BuildStep, isBinpkgOf } from './build-steps.ts';
import type { BuildTarget } from './build-target.ts';
import { runContainerExec } from './container-exec.ts';
import { dockerStatusCode, engineError, ignoreDockerStatus } from './docker-errors.ts';
import type { BuildSandbox } from './run-build.ts';

/**
 * Inside the container, outside the cache volume: the `--buildpkgonly` step's PKGDIR. It lives
 * and dies with the container, so nothing of a build survives the job except what is copied out.
 */
export const CONTAINER_OUTPUT_PKGDIR = '/var/tmp/spotjobs-binpkg-out';

/**
 * One build's container (already started, idling on its keep-alive command): the steps run in it
 * as execs, so the dependencies the first step installs are there for the second. Every engine
 * call that fails becomes a `BuildEngineError` with the engine's words.
 */
export class ContainerSandbox implements BuildSandbox {
  readonly outputPkgdir = CONTAINER_OUTPUT_PKGDIR;
  readonly #container: Docker.Container;
  readonly #stopTimeoutSeconds: number;

  constructor(container: Docker.Container, stopTimeoutSeconds: number) {
    this.#container = container;
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

  async collect(
    target: BuildTarget,
    write: (source: Readable, fileName: string) => Promise<void>,
  ): Promise<number> {
    let archive: NodeJS.ReadableStream;
    try {
      archive = await this.#container.getArchive({ path: CONTAINER_OUTPUT_PKGDIR });
    } catch (err) {
      if (dockerStatusCode(err) === 404) return 0; // the step wrote nothing at all
      throw engineError('collect', 'copying the binary package out', err);
    }
    // The archive holds the directory itself: `spotjobs-binpkg-out/<category>/<file>`.
    const extract = tar.extract();
    const source = archive as Readable;
    source.once('error', (err) => extract.destroy(err));
    source.pipe(extract);
    let found = 0;
    try {
      for await (const entry of extract) {
        const inside = entry.header.name.split('/').slice(1).join('/');
        if (entry.header.type === 'file' && isBinpkgOf(target, inside)) {
          found++;
          await write(entry as unknown as Readable, posix.basename(inside));
        } else {
          entry.resume();
        }
      }
    } finally {
      source.destroy();
    }
    return found;
  }

  async kill(): Promise<void> {
    await this.#container.kill({ signal: 'SIGKILL' }).catch(ignoreDockerStatus(404, 409));
  }

  async stop(): Promise<void> {
    await this.#container.stop({ t: this.#stopTimeoutSeconds }).catch(ignoreDockerStatus(304, 404));
  }

  async dispose(): Promise<void> {
    // `force` kills what still runs; `v` drops anonymous volumes (the named cache stays).
    // 409: a removal is already under way.
    await this.#container
      .remove({ force: true, v: true, abortSignal: AbortSignal.timeout(60_000) })
      .catch(ignoreDockerStatus(404, 409));
  }
}
