import type Docker from 'dockerode';
import { BuildEngineError } from './build-engine-error.ts';
import { DockerStreamDemuxer } from './docker-stream-demuxer.ts';

/**
 * Asks Portage in `imageId` where it keeps binary packages: `portageq envvar PKGDIR` in a
 * short-lived container, removed afterwards. (The original hardcoded `/usr/portage/packages`;
 * current Portage defaults to `/var/cache/binpkgs`, and make.conf may say anything.)
 * The shared binpkg cache volume is mounted there in every build container.
 *
 * @example
 * ```ts
 * await readPortagePkgdir(docker, imageId, { Labels: { 'spotjobs.role': 'probe' } }); // '/var/cache/binpkgs'
 * ```
 */
export async function readPortagePkgdir(
  docker: Docker,
  imageId: string,
  create: Omit<Docker.ContainerCreateOptions, 'Image' | 'Entrypoint' | 'Cmd'>,
): Promise<string> {
  const container = await docker.createContainer({
    ...create,
    Image: imageId,
    Entrypoint: ['portageq', 'envvar', 'PKGDIR'],
    Cmd: [],
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    let stdout = '';
    let stderr = '';
    new DockerStreamDemuxer((stream, payload) => {
      if (stream === 'stdout') stdout += payload.toString('utf8');
      else stderr += payload.toString('utf8');
    }).push(logs);
    const pkgdir = stdout.trim();
    if (StatusCode !== 0 || !/^\/[^\n\0]*[^/\n\0]$/.test(pkgdir)) {
      const said = (stderr || stdout).trim().slice(0, 500);
      throw new BuildEngineError(
        'pkgdir',
        `portageq envvar PKGDIR in ${imageId} exited ${StatusCode}: ${JSON.stringify(said)}`,
      );
    }
    return pkgdir;
  } finally {
    await container.remove({ force: true, v: true }).catch(() => {});
  }
}
