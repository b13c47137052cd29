// ContainerBuildExecutor against a real Docker Engine and the locally imported builder test
// image, whose emerge stand-in records the exact argv and environment of every call.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';

import { join } from 'node:path';
import { AbortedError } from '@spotjobs/core';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { BuildEngineError } from '../src/executor/build-engine-error.ts';
import {
  BuildLabels,
  ContainerBuildExecutor,
  type ContainerBuildExecutorOptions,
} from '../src/executor/container-build-executor.ts';
import { CONTAINER_OUTPUT_PKGDIR } from '../src/executor/container-sandbox.ts';
import { useDockerTestFile } from './support/docker-test-file.ts';
import { containersLabelled, LogWatcher, standinCalls, TEST_RUN_LABEL } from './support/executor-docker.ts';

let docker: Docker;
let image: string;
let scratch: string;
let workDir: string;
const runId = useDockerTestFile('executor-container-', (env) => {
  ({ docker, image, scratch } = env);
  workDir = join(scratch, 'work');
});
let jobSeq = 0;

/** An executor with its own binpkg cache directory (unless given), labelled with this run. */
function executor(options: Partial<ContainerBuildExecutorOptions> = {}): ContainerBuildExecutor {
  return new ContainerBuildExecutor({
    docker,
    image,
    workDir,
    cacheDir: join(scratch, `binpkgs-${++jobSeq}`),
    networkMode: 'none',
    memoryBytes: 256 * 2 ** 20,
    cpus: 0.5,
    pidsLimit: 128,
    stopTimeoutSeconds: 2,
    labels: { [TEST_RUN_LABEL]: runId },
    ...options,
  });
}

function jobId(): string {
  return `job-${runId}-${++jobSeq}`;
}

/** A slow build on `chosen`, running: its container's id, how to abort it, and how it settled. */
async function runningSlowBuild(chosen: ContainerBuildExecutor) {
  const id = jobId();
  const logs = new LogWatcher();
  const abort = new AbortController();
  const settled = chosen
    .build({ cpv: 'app-misc/slow-build-1.0', use: [], jobId: id, signal: abort.signal, onLog: logs.onLog })
    .catch((err: unknown) => err);
  await logs.waitFor((l) => l.line.startsWith('>>> standin: compiling'));
  const [info] = await containersLabelled(docker, BuildLabels.jobId, id);
  return { id, containerId: info!.Id, abort, settled };
}

/** The files under `dir`, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** Runs `argv` in a running container; resolves its exit code and output. */
async function execIn(id: string, argv: string[]): Promise<{ code: number | null; output: string }> {
  const exec = await docker.getContainer(id).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise((resolve) => stream.once('end', resolve));
  // Frames: 8-byte headers before each payload; the test only looks for words in it.
  const output = Buffer.concat(chunks).toString('latin1');
  return { code: (await exec.inspect()).ExitCode, output };
}

describe('ContainerBuildExecutor', () => {
  it('runs both emerge steps as exact argv with USE on each, and returns the binary package with its sha256', async () => {
    const id = jobId();
    const use = ['-doc', 'abi_x86_32', 'c++20', 'gtk+', 'foo@bar'];
    const logs = new LogWatcher();

    const result = await executor().build({
      cpv: 'dev-libs/libsigc++-2.12.1-r1',
      use,
      jobId: id,
      signal: new AbortController().signal,
      onLog: logs.onLog,
    });

    expect(result.ok, JSON.stringify(result.log.tail)).toBe(true);
    await result.removed;
    expect(await containersLabelled(docker, BuildLabels.jobId, id)).toEqual([]);
    if (!result.ok) return;
    const [deps, pkg, ...more] = standinCalls(logs.text());
    expect(more).toEqual([]);
    expect(deps?.argv).toEqual(['--onlydeps', '--onlydeps-with-rdeps', 'n', '=dev-libs/libsigc++-2.12.1-r1']);
    expect(pkg?.argv).toEqual(['--buildpkgonly', '=dev-libs/libsigc++-2.12.1-r1']);
    expect(deps?.env.USE).toBe('-doc abi_x86_32 c++20 gtk+ foo@bar');
    expect(pkg?.env.USE).toBe('-doc abi_x86_32 c++20 gtk+ foo@bar');
    expect(deps?.env.PKGDIR).toBeUndefined();
    expect(pkg?.env.PKGDIR).toBe(CONTAINER_OUTPUT_PKGDIR);
    // Nothing of this process's environment reaches the build.
    expect(Object.keys(pkg?.env ?? {}).sort()).toEqual(['HOME', 'HOSTNAME', 'PATH', 'PKGDIR', 'USE']);

    const bytes = await readFile(result.artifact.path);
    expect(result.artifact.fileName).toBe('libsigc++-2.12.1-r1.gpkg.tar');
    expect(result.artifact.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(result.artifact.size).toBe(bytes.length);
    expect(bytes.subarray(257, 262).toString('latin1')).toBe('ustar'); // a real tar archive
    expect(bytes.toString('latin1')).toContain('-doc abi_x86_32 c++20 gtk+ foo@bar'); // built with the USE given

    const stored = await readFile(result.log.path, 'utf8');
    expect(stored.length).toBe(result.log.size);
    for (const line of logs.text()) expect(stored).toContain(line);
    expect(logs.lines.map((l) => l.step)).toEqual(expect.arrayContaining(['deps', 'package']));
    expect(result.durations.totalMs).toBeGreaterThanOrEqual(
      result.durations.depsMs + result.durations.packageMs,
    );
    // The image it ran on: a locally imported image has an id and no registry digest.
    expect(result.image).toEqual({ id: (await docker.getImage(image).inspect()).Id, repoDigests: [] });
    // Only the log and the artifact stay: the package step's output directory is gone.
    expect((await readdir(result.workDir)).sort()).toEqual(['build.log', 'libsigc++-2.12.1-r1.gpkg.tar']);
  });

  it('keeps dependencies in the cache directory at Portage PKGDIR (created if missing) and reuses them in the next build', async () => {
    const cacheDir = join(scratch, `cache-${runId}`, 'not', 'there', 'yet');
    const build = executor({ cacheDir });
    const first = new LogWatcher();
    const second = new LogWatcher();

    const a = await build.build({
      cpv: 'app-misc/alpha-1.0',
      use: [],
      jobId: jobId(),
      signal: AbortSignal.timeout(60_000),
      onLog: first.onLog,
    });
    const b = await build.build({
      cpv: 'app-misc/beta-2.0',
      use: ['x'],
      jobId: jobId(),
      signal: AbortSignal.timeout(60_000),
      onLog: second.onLog,
    });

    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(first.text()).toContain('>>> standin: built dependency dev-libs/standin-dep-1.0');
    expect(second.text()).toContain('>>> standin: reused binary package dev-libs/standin-dep-1.0');
    expect(second.text().join('\n')).not.toContain('built dependency');
    // The image's make.conf says PKGDIR="/srv/binpkgs": the cache directory was mounted there.
    expect(first.text()).toContain('>>> standin: wrote /srv/binpkgs/dev-libs/standin-dep-1.0.gpkg.tar');
    // Only dependencies live in the cache; the built packages went out through the job's own PKGDIR.
    expect(await filesUnder(cacheDir)).toEqual(['dev-libs/standin-dep-1.0.gpkg.tar']);
    await Promise.all([a.removed, b.removed]);
  });

  it('mounts the Portage tree read-only at the default path in every build', async () => {
    const treeDir = join(scratch, `tree-${runId}`);
    await mkdir(join(treeDir, 'profiles'), { recursive: true });
    await writeFile(join(treeDir, 'profiles', 'repo_name'), 'gentoo\n');
    const { containerId, abort, settled } = await runningSlowBuild(executor({ treeDir }));
    const inspected = await docker.getContainer(containerId).inspect();
    const read = await execIn(containerId, ['cat', '/var/db/repos/gentoo/profiles/repo_name']);
    const write = await execIn(containerId, ['touch', '/var/db/repos/gentoo/written-by-a-build']);
    abort.abort();

    expect(inspected.Mounts).toContainEqual(
      expect.objectContaining({
        Type: 'bind',
        Source: treeDir,
        Destination: '/var/db/repos/gentoo',
        RW: false,
      }),
    );
    expect(read).toMatchObject({ code: 0, output: expect.stringContaining('gentoo') });
    expect(write.code).not.toBe(0);
    expect(write.output).toContain('Read-only file system');
    expect(await readdir(treeDir)).toEqual(['profiles']);
    expect(await settled).toBeInstanceOf(AbortedError);
  });

  it('mounts the Portage tree where treeMountPath says, and refuses a tree that is missing', async () => {
    const treeDir = join(scratch, `tree-elsewhere-${runId}`);
    await mkdir(treeDir);
    const { containerId, abort, settled } = await runningSlowBuild(
      executor({ treeDir, treeMountPath: '/srv/portage-tree' }),
    );
    const inspected = await docker.getContainer(containerId).inspect();
    abort.abort();

    const missing = await executor({ treeDir: join(scratch, 'no-such-tree') })
      .build({ cpv: 'app-misc/alpha-1.0', use: [], jobId: jobId(), signal: AbortSignal.timeout(60_000) })
      .catch((err: unknown) => err);

    expect(inspected.Mounts).toContainEqual(
      expect.objectContaining({ Type: 'bind', Source: treeDir, Destination: '/srv/portage-tree', RW: false }),
    );
    expect(inspected.Mounts.map((m) => m.Destination)).not.toContain('/var/db/repos/gentoo');
    expect(await settled).toBeInstanceOf(AbortedError);
    expect(missing).toBeInstanceOf(BuildEngineError);
    expect((missing as BuildEngineError).message).toContain('no-such-tree is missing');
  });

  it('reports a failing package step with its exit code, reason and log', async () => {
    const logs = new LogWatcher();
    const result = await executor().build({
      cpv: 'app-misc/fail-compile-1.0',
      use: ['x'],
      jobId: jobId(),
      signal: AbortSignal.timeout(60_000),
      onLog: logs.onLog,
    });

    expect(result).toMatchObject({ ok: false, reason: 'package-failed', exitCode: 3 });
    expect(result.image.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const stored = await readFile(result.log.path, 'utf8');
    expect(stored).toContain('make: *** [Makefile:12: all] Error 1');
    expect(stored).toContain('!!! ERROR: app-misc/fail-compile-1.0 failed (compile phase)');
    expect(logs.lines).toContainEqual({
      step: 'package',
      stream: 'stderr',
      line: '!!! ERROR: app-misc/fail-compile-1.0 failed (compile phase)',
    });
    expect(await readdir(result.workDir)).toEqual(['build.log']);
  });

  it('stops after a failing deps step: the package step never runs', async () => {
    const logs = new LogWatcher();
    const result = await executor().build({
      cpv: 'app-misc/fail-deps-lib-1.0',
      use: [],
      jobId: jobId(),
      signal: AbortSignal.timeout(60_000),
      onLog: logs.onLog,
    });

    expect(result).toMatchObject({ ok: false, reason: 'deps-failed', exitCode: 3 });
    expect(standinCalls(logs.text()).map((c) => c.argv[0])).toEqual(['--onlydeps']);
  });

  it('counts warnings on stderr with exit code 0 as a success', async () => {
    const logs = new LogWatcher();
    const result = await executor().build({
      cpv: 'app-misc/warn-loudly-1.0',
      use: [],
      jobId: jobId(),
      signal: AbortSignal.timeout(60_000),
      onLog: logs.onLog,
    });

    expect(result.ok).toBe(true);
    expect(logs.lines).toContainEqual({
      step: 'package',
      stream: 'stderr',
      line: ' * QA Notice: this is only a warning',
    });
  });

  it('fails with no-artifact when emerge exits 0 without writing a binary package', async () => {
    const result = await executor().build({
      cpv: 'app-misc/silent-thing-1.0',
      use: [],
      jobId: jobId(),
      signal: AbortSignal.timeout(60_000),
    });

    expect(result).toMatchObject({ ok: false, reason: 'no-artifact', exitCode: null });
  });

  it('applies the memory, CPU, pids and network limits and the cache and output mounts to the build container', async () => {
    const cacheDir = join(scratch, `cache-limits-${runId}`);
    const { id, containerId, abort, settled } = await runningSlowBuild(
      executor({ memoryBytes: 300 * 2 ** 20, cpus: 0.75, pidsLimit: 99, cacheDir }),
    );
    const inspected = await docker.getContainer(containerId).inspect();
    abort.abort();

    expect(inspected.HostConfig).toMatchObject({
      Memory: 300 * 2 ** 20,
      MemorySwap: 300 * 2 ** 20,
      NanoCpus: 750_000_000,
      PidsLimit: 99,
      NetworkMode: 'none',
      Init: true,
      CapAdd: ['SYS_PTRACE'],
    });
    expect(inspected.Mounts).toContainEqual(
      expect.objectContaining({ Type: 'bind', Source: cacheDir, Destination: '/srv/binpkgs', RW: true }),
    );
    expect(inspected.Mounts).toContainEqual(
      expect.objectContaining({
        Type: 'bind',
        Source: expect.stringMatching(new RegExp(`^${workDir}/${id}-[^/]+/binpkg-out$`)),
        Destination: CONTAINER_OUTPUT_PKGDIR,
        RW: true,
      }),
    );
    expect(inspected.Config.Labels).toMatchObject({
      [TEST_RUN_LABEL]: runId,
      [BuildLabels.role]: 'compile-build',
    });
    expect(await settled).toBeInstanceOf(AbortedError);
  });

  it('kills and removes the container when the wall-clock limit passes', async () => {
    const id = jobId();
    const result = await executor({ timeoutMs: 3000 }).build({
      cpv: 'app-misc/slow-build-1.0',
      use: [],
      jobId: id,
      signal: AbortSignal.timeout(60_000),
    });

    expect(result).toMatchObject({ ok: false, reason: 'timeout', exitCode: null });
    expect(result.log.tail).toContain('>>> spotjobs: wall-clock limit of 3000 ms reached: killing the build');
    await result.removed;
    expect(await containersLabelled(docker, BuildLabels.jobId, id)).toEqual([]);
  });

  it('stops and removes the container when aborted mid-build, and leaves no work directory', async () => {
    const { id, abort, settled } = await runningSlowBuild(executor());
    abort.abort(new Error('spot interruption'));

    const err = await settled;
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).cause).toEqual(new Error('spot interruption'));
    expect(await containersLabelled(docker, BuildLabels.jobId, id)).toEqual([]);
    expect((await readdir(workDir)).filter((name) => name.startsWith(`${id}-`))).toEqual([]);
  });

  it('leaves no container behind whenever the abort lands (prepare, steps, copy-out)', async () => {
    const build = executor();
    for (const delayMs of [0, 20, 80, 200, 400]) {
      const id = jobId();
      const abort = new AbortController();
      const building = build
        .build({ cpv: 'app-misc/quick-1.0', use: [], jobId: id, signal: abort.signal })
        .then(
          async (result) => {
            await result.removed;
            return result.ok;
          },
          (err: unknown) => err,
        );
      setTimeout(() => abort.abort(), delayMs);

      const outcome = await building;
      // Either the build won the race (a complete result) or it was aborted; never anything else.
      expect(outcome === true || outcome instanceof AbortedError, String(outcome)).toBe(true);
      expect(await containersLabelled(docker, BuildLabels.jobId, id)).toEqual([]);
    }
  });

  it('throws BuildEngineError when the image is missing and cannot be pulled', async () => {
    const missing = executor({ image: '127.0.0.1:9/spotjobs-missing:1' });

    const err = await missing
      .build({ cpv: 'app-misc/alpha-1.0', use: [], jobId: jobId(), signal: AbortSignal.timeout(60_000) })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(BuildEngineError);
    expect((err as BuildEngineError).stage).toBe('image');
    expect((err as BuildEngineError).message).toContain('pulling image 127.0.0.1:9/spotjobs-missing:1');
  });

  it('rejects a malformed request before any container exists', async () => {
    const id = jobId();
    const build = executor();

    await expect(
      build.build({ cpv: 'app-misc/x-1.0;id', use: [], jobId: id, signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow(/invalid package/);
    await expect(
      build.build({ cpv: 'app-misc/x-1.0', use: ['$(id)'], jobId: id, signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow(/invalid USE/);
    expect(await containersLabelled(docker, BuildLabels.jobId, id)).toEqual([]);
  });
});
