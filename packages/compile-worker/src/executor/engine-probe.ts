import type Docker from 'dockerode';

/**
 * Whether a Docker Engine answers through `docker` within `timeoutMs`: the daemon's choice
 * between `ContainerBuildExecutor` and `ProcessBuildExecutor`.
 *
 * @example
 * ```ts
 * const docker = new Docker();
 * const executor = (await dockerEngineAnswers(docker))
 *   ? new ContainerBuildExecutor({ docker, image, workDir })
 *   : new ProcessBuildExecutor({ workDir });
 * ```
 */
export async function dockerEngineAnswers(docker: Docker, timeoutMs = 3000): Promise<boolean> {
  try {
    await (docker.ping as (options: { abortSignal: AbortSignal }) => Promise<unknown>).call(docker, {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
    return true;
  } catch {
    return false;
  }
}
