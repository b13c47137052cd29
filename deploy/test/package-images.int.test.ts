// The container images built by a real Docker Engine from the contexts `pnpm package` writes,
// with the Dockerfiles of deploy/images/. No registry is reachable here, so the base image is
// made locally (`docker import` of a root file system holding the packaging's Node binary, the
// shared libraries `ldd` lists for it, and a static busybox as the launchers' sh) and handed
// over with --build-arg BASE_IMAGE, as a user would hand over their registry's node:24 image.
// Then: the Fossa node answers over HTTP, the same image with the command
// `spotjobs-fossa-gateway` runs the gateway (ECS's `command` replaces the CMD), the batch
// runner image's ENTRYPOINT is the runner, which runs a Batch job's program and uploads its
// outputs to S3 (the emulator), and neither runs as root.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ensureS3Bucket } from '@spotjobs/core/aws';
import { awsTestClientConfig } from '@spotjobs/core/testing';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { packageArtifacts } from '../src/package-artifacts.ts';
import { type TarEntry, writeTarGz } from '../src/package-tarball.ts';
import { directoryTarEntries } from '../src/package-worker-tarball.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const runId = randomBytes(4).toString('hex');
const baseImage = `spotjobs-test-node-base:${runId}`;
const imageName = (name: string) => `spotjobs-test-${name}:${runId}`;
const docker = new Docker();
let work: string;
const images: string[] = [];

/** The files `ldd` says a binary loads, with their real paths (the loader included). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]).catch((err: { stdout?: string }) => ({
    stdout: err.stdout ?? '',
  }));
  return [...stdout.matchAll(/(\/\S+)/g)].map((m) => m[1]!);
}

/** A root file system for `docker import`: node, its libraries, busybox as sh/readlink/dirname, /tmp. */
async function baseRootfs(): Promise<TarEntry[]> {
  const node = await realpath(process.execPath);
  const { stdout } = await run('sh', ['-c', 'command -v busybox']);
  const busybox = await realpath(stdout.trim());
  const files = new Map<string, { source: string; mode: number }>();
  files.set('usr/local/bin/node', { source: node, mode: 0o755 });
  for (const tool of ['sh', 'readlink', 'dirname'])
    files.set(`bin/${tool}`, { source: busybox, mode: 0o755 });
  for (const library of [...(await sharedLibraries(node)), ...(await sharedLibraries(busybox))])
    files.set(library.slice(1), { source: library, mode: 0o755 });
  const entries: TarEntry[] = [{ type: 'directory', name: 'tmp', mode: 0o1777 }];
  for (const [name, { source, mode }] of files)
    entries.push({ type: 'file', name, data: await readFile(source), mode });
  return entries;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a container of `image` on the host's network (no bridge needed); removed when the test ends. */
async function runContainer(image: string, options: { cmd?: string[]; env?: Record<string, string> }) {
  const container = await docker.createContainer({
    Image: image,
    ...(options.cmd ? { Cmd: options.cmd } : {}),
    Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: { 'spotjobs.test-run': runId },
    HostConfig: { NetworkMode: 'host' },
  });
  onTestFinished(() => container.remove({ force: true }));
  await container.start();
  const logs = async () =>
    (await container.logs({ stdout: true, stderr: true, follow: false })).toString('utf8');
  return { container, logs };
}

async function buildImage(name: string): Promise<string> {
  const context = join(work, `${name}-context.tar.gz`);
  await writeTarGz(
    context,
    await directoryTarEntries(join(work, 'dist/images', name), '', AbortSignal.timeout(60_000)),
    AbortSignal.timeout(60_000),
  );
  const tag = imageName(name);
  const stream = await docker.buildImage(createReadStream(context), {
    t: tag,
    buildargs: { BASE_IMAGE: baseImage },
    rm: true,
    forcerm: true,
  });
  const output = await new Promise<unknown[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, result) => (err ? reject(err) : resolve(result))),
  );
  const failed = output.find((o) => (o as { error?: string }).error);
  if (failed) throw new Error(`docker build of ${name} failed: ${JSON.stringify(failed)}`);
  images.push(tag);
  return tag;
}

beforeAll(async () => {
  await run('bash', [join(repoRoot, 'scripts/ensure-docker.sh')], { timeout: 300_000 });
  work = await mkdtemp(join(tmpdir(), 'spotjobs-package-images-'));
  await packageArtifacts(
    { repoRoot, outDir: join(work, 'dist'), parts: ['images'] },
    AbortSignal.timeout(300_000),
  );
  const rootfs = join(work, 'rootfs.tar.gz');
  await writeTarGz(rootfs, await baseRootfs(), AbortSignal.timeout(120_000));
  const [repo, tag] = baseImage.split(':');
  const stream = await docker.importImage(rootfs, { repo, tag });
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err, result) => (err ? reject(err) : resolve(result))),
  );
  images.push(baseImage);
}, 600_000);

afterAll(async () => {
  const leftovers = await docker.listContainers({
    all: true,
    filters: { label: [`spotjobs.test-run=${runId}`] },
  });
  for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true });
  for (const image of images.reverse())
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('the fossa-node image', () => {
  let image: string;
  beforeAll(async () => {
    image = await buildImage('fossa-node');
  }, 600_000);

  it('runs the Fossa node by default, as a non-root user, answering its API over HTTP', async () => {
    const port = await freePort();
    const { logs } = await runContainer(image, {
      env: { FOSSA_HTTP_HOST: '127.0.0.1', FOSSA_HTTP_PORT: String(port), FOSSA_DATA_DIR: '/tmp/fossa' },
    });

    const body = await vi
      .waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/api/0.01/`);
          return response.json();
        },
        { timeout: 60_000, interval: 200 },
      )
      .catch(async (err: unknown) => {
        throw new Error(`the node did not answer; its log:\n${await logs()}`, { cause: err });
      });
    expect(body).toEqual({ hello: 'world' });
    const user = await docker.getImage(image).inspect();
    expect(user.Config.User).toBe('1000:1000');
    expect(user.Config.Cmd).toEqual(['spotjobs-fossa-node']);
  }, 120_000);

  it('runs the gateway with the command spotjobs-fossa-gateway (its settings refused: exit 78)', async () => {
    const { container, logs } = await runContainer(image, { cmd: ['spotjobs-fossa-gateway'] });

    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    expect(StatusCode).toBe(78);
    expect(await logs()).toMatch(/spotjobs-fossa-gateway: invalid settings/);
  }, 120_000);
});

describe('the batch-runner image', () => {
  let image: string;
  beforeAll(async () => {
    image = await buildImage('batch-runner');
  }, 600_000);

  it('has the runner as its entrypoint, as a non-root user (settings refused without APP_BIN)', async () => {
    const { container, logs } = await runContainer(image, {});

    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    expect(await logs()).toMatch(/spotjobs-batch-runner: invalid batch-runner configuration[\s\S]*APP_BIN/);
    expect(StatusCode).not.toBe(0);
    const config = (await docker.getImage(image).inspect()).Config;
    expect(config.Entrypoint).toEqual(['spotjobs-batch-runner']);
    expect(config.User).toBe('1000:1000');
  }, 120_000);

  it("runs a Batch job's program and uploads its outputs to S3 under the job id", async () => {
    const endpoints = inject('emulators');
    const s3 = new S3Client({ ...awsTestClientConfig, endpoint: endpoints.s3 });
    onTestFinished(() => s3.destroy());
    const bucket = `package-runner-${runId}`;
    await ensureS3Bucket(s3, bucket);
    const jobId = `job-${randomBytes(4).toString('hex')}`;

    const { container, logs } = await runContainer(image, {
      env: {
        EXEC_TYPE: 'batch',
        AWS_BATCH_JOB_ID: jobId,
        APP_BIN: '/bin/sh',
        // sh -c SCRIPT OUTPUT_DIR: the script reads the output directory as $0.
        APP_PARAMS: JSON.stringify(['-c', 'echo "hello from $(id -u)" > "$0/hello.txt"', '{output}']),
        SPOTJOBS_OUTPUT_URI: `s3://${bucket}/results/`,
        SPOTJOBS_S3_FORCE_PATH_STYLE: 'true',
        AWS_ENDPOINT_URL_S3: endpoints.s3,
        AWS_REGION: awsTestClientConfig.region,
        AWS_ACCESS_KEY_ID: awsTestClientConfig.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: awsTestClientConfig.credentials.secretAccessKey,
      },
    });

    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    expect(StatusCode, await logs()).toBe(0);
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `results/${jobId}/hello.txt` }));
    expect(await object.Body!.transformToString()).toBe('hello from 1000\n');
  }, 120_000);
});
