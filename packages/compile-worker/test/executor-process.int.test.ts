// ProcessBuildExecutor against the same emerge stand-in the builder test image carries, run as
// child processes of this one, with its Portage configuration in a temporary config root.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError } from '@spotjobs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildEngineError } from '../src/executor/build-engine-error.ts';
import {
  ProcessBuildExecutor,
  type ProcessBuildExecutorOptions,
} from '../src/executor/process-build-executor.ts';
import { LogWatcher, standinCalls, standinEmerge } from './support/executor-docker.ts';

let root: string;
let configRoot: string;
let cache: string;
let workDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'executor-process-'));
  configRoot = join(root, 'config');
  cache = join(root, 'binpkgs');
  workDir = join(root, 'work');
  await mkdir(join(configRoot, 'etc/portage'), { recursive: true });
  // xpak and multi-instance: the other layout Portage writes (the container test covers gpkg).
  await writeFile(
    join(configRoot, 'etc/portage/make.conf'),
    `PKGDIR="${cache}"\nBINPKG_FORMAT="xpak"\nFEATURES="buildpkg binpkg-multi-instance"\n`,
  );
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function executor(options: Partial<ProcessBuildExecutorOptions> = {}): ProcessBuildExecutor {
  return new ProcessBuildExecutor({
    workDir,
    emerge: standinEmerge,
    env: { PORTAGE_CONFIGROOT: configRoot },
    stopGraceMs: 2000,
    ...options,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid the slow stand-in prints on each of its progress lines. */
function standinPid(logs: LogWatcher): number {
  const line = logs.text().find((l) => l.startsWith('>>> standin: compiling')) ?? '';
  return Number(/\(pid (\d+)\)/.exec(line)?.[1]);
}

describe('ProcessBuildExecutor', () => {
  it('runs both steps with exact argv, USE on each and nothing else of this process environment', async () => {
    process.env.SPOTJOBS_TEST_CANARY = 'must-not-leak';
    const logs = new LogWatcher();
    try {
      const result = await executor().build({
        cpv: 'dev-libs/libsigc++-2.12.1-r1',
        use: ['-doc', 'c++20', 'foo@bar'],
        jobId: 'process-job-1',
        signal: AbortSignal.timeout(30_000),
        onLog: logs.onLog,
      });

      expect(result.ok, JSON.stringify(result.log.tail)).toBe(true);
      if (!result.ok) return;
      const [deps, pkg] = standinCalls(logs.text());
      expect(deps?.argv).toEqual([
        '--onlydeps',
        '--onlydeps-with-rdeps',
        'n',
        '=dev-libs/libsigc++-2.12.1-r1',
      ]);
      expect(pkg?.argv).toEqual(['--buildpkgonly', '=dev-libs/libsigc++-2.12.1-r1']);
      expect(deps?.env).toEqual({
        PATH: process.env.PATH,
        PORTAGE_CONFIGROOT: configRoot,
        USE: '-doc c++20 foo@bar',
      });
      expect(pkg?.env).toEqual({
        PATH: process.env.PATH,
        PORTAGE_CONFIGROOT: configRoot,
        USE: '-doc c++20 foo@bar',
        PKGDIR: join(result.workDir, 'binpkg-out'),
      });

      const bytes = await readFile(result.artifact.path);
      expect(result.artifact.fileName).toBe('libsigc++-2.12.1-r1-1.tbz2');
      expect(bytes.subarray(0, 3).toString('latin1')).toBe('BZh'); // bzip2, as xpak packages are
      expect(result.artifact.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(result.artifact.size).toBe(bytes.length);
      // The job's private PKGDIR is gone; the artifact and the log stay for the caller.
      expect((await readdir(result.workDir)).sort()).toEqual(['build.log', 'libsigc++-2.12.1-r1-1.tbz2']);
      expect(result.image).toEqual({ id: 'host', repoDigests: [] });
      await expect(result.removed).resolves.toBeUndefined();
      expect(await readFile(result.log.path, 'utf8')).toContain(
        'no container: no isolation, no limits but time',
      );
    } finally {
      delete process.env.SPOTJOBS_TEST_CANARY;
    }
  });

  it('uses the host PKGDIR as the dependency cache across builds', async () => {
    const first = new LogWatcher();
    const second = new LogWatcher();

    await executor().build({
      cpv: 'app-misc/alpha-1.0',
      use: [],
      jobId: 'a',
      signal: AbortSignal.timeout(30_000),
      onLog: first.onLog,
    });
    await executor().build({
      cpv: 'app-misc/beta-1.0',
      use: [],
      jobId: 'b',
      signal: AbortSignal.timeout(30_000),
      onLog: second.onLog,
    });

    expect(first.text()).toContain('>>> standin: built dependency dev-libs/standin-dep-1.0');
    expect(second.text()).toContain('>>> standin: reused binary package dev-libs/standin-dep-1.0');
    expect(await readdir(join(cache, 'dev-libs/standin-dep'))).toEqual(['standin-dep-1.0-1.tbz2']);
  });

  it('uses cacheDir (created if missing) as the deps step PKGDIR when given', async () => {
    const cacheDir = join(root, 'spotjobs-cache', 'binpkgs');
    const logs = new LogWatcher();

    const result = await executor({ cacheDir }).build({
      cpv: 'app-misc/gamma-1.0',
      use: [],
      jobId: 'c',
      signal: AbortSignal.timeout(30_000),
      onLog: logs.onLog,
    });

    expect(result.ok).toBe(true);
    const [deps, pkg] = standinCalls(logs.text());
    expect(deps?.env.PKGDIR).toBe(cacheDir);
    expect(pkg?.env.PKGDIR).toBe(join(result.workDir, 'binpkg-out'));
    expect(await readdir(join(cacheDir, 'dev-libs/standin-dep'))).toEqual(['standin-dep-1.0-1.tbz2']);
    await expect(readdir(cache)).rejects.toThrow(/ENOENT/); // Portage's own PKGDIR was not used
  });

  it('reports a failing step with its exit code and log, and a warning-only build as a success', async () => {
    const failed = await executor().build({
      cpv: 'app-misc/fail-compile-1.0',
      use: [],
      jobId: 'f',
      signal: AbortSignal.timeout(30_000),
    });
    const warned = await executor().build({
      cpv: 'app-misc/warn-loudly-1.0',
      use: [],
      jobId: 'w',
      signal: AbortSignal.timeout(30_000),
    });

    expect(failed).toMatchObject({ ok: false, reason: 'package-failed', exitCode: 3 });
    expect(failed.log.tail).toContain('!!! ERROR: app-misc/fail-compile-1.0 failed (compile phase)');
    expect(warned.ok).toBe(true);
  });

  it('kills the whole process group when the wall-clock limit passes', async () => {
    const logs = new LogWatcher();
    const result = await executor({ timeoutMs: 3000 }).build({
      cpv: 'app-misc/slow-build-1.0',
      use: [],
      jobId: 't',
      signal: AbortSignal.timeout(30_000),
      onLog: logs.onLog,
    });

    expect(result).toMatchObject({ ok: false, reason: 'timeout', exitCode: null });
    expect(standinPid(logs)).toBeGreaterThan(0);
    expect(isAlive(standinPid(logs))).toBe(false);
  });

  it('stops the build on abort, removes its work directory and rejects with AbortedError', async () => {
    const logs = new LogWatcher();
    const abort = new AbortController();
    const settled = executor()
      .build({
        cpv: 'app-misc/slow-build-1.0',
        use: [],
        jobId: 'abort-me',
        signal: abort.signal,
        onLog: logs.onLog,
      })
      .catch((err: unknown) => err);

    await logs.waitFor((l) => l.line.startsWith('>>> standin: compiling'));
    abort.abort();

    expect(await settled).toBeInstanceOf(AbortedError);
    expect(standinPid(logs)).toBeGreaterThan(0);
    expect(isAlive(standinPid(logs))).toBe(false);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('throws BuildEngineError when emerge cannot be started', async () => {
    const err = await executor({ emerge: join(root, 'no-such-emerge') })
      .build({ cpv: 'app-misc/alpha-1.0', use: [], jobId: 'e', signal: AbortSignal.timeout(30_000) })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(BuildEngineError);
    expect((err as BuildEngineError).stage).toBe('process');
  });
});
