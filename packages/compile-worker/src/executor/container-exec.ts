import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { BuildEngineError } from './build-engine-error.ts';
import { DockerStreamDemuxer } from './docker-stream-demuxer.ts';

/**
 * Runs `argv` in the running `container` (no shell: the engine executes the argv as given),
 * with `env` added to the container's environment, and resolves its exit code once it ends;
 * `null` when the engine reports none (the container was killed under it).
 *
 * @example
 * ```ts
 * const code = await runContainerExec(container, ['emerge', '--buildpkgonly', '=app-misc/ranger-1.8.1'],
 *   { USE: 'x' }, (stream, chunk) => process.stdout.write(chunk));
 * ```
 */
export async function runContainerExec(
  container: Docker.Container,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  output: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void,
): Promise<number | null> {
  const exec = await container.exec({
    Cmd: [...argv],
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const socket = await exec.start({ hijack: true, stdin: false });
  const demux = new DockerStreamDemuxer((stream, payload) => {
    if (stream !== 'stdin') output(stream, payload);
  });
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => demux.push(chunk));
    socket.once('end', resolve);
    socket.once('close', resolve);
    socket.once('error', reject);
  });
  socket.destroy();
  return await exitCodeOf(exec);
}

// The attach stream ends a moment before the engine records the exit: poll briefly.
async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const info = await exec.inspect();
    if (!info.Running) return info.ExitCode;
    await delay(Math.min(5 * (attempt + 1), 50));
  }
  throw new BuildEngineError('container', `exec ${exec.id} still running after its output ended`);
}
