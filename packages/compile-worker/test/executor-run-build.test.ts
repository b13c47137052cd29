// runBuild, the flow both executors share, against a scripted sandbox and a manual clock:
// verdicts from exit codes only, the stored log, the wall-clock limit, aborts and clean-up.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, ValidationError } from '@spotjobs/core';
import { ManualClock, recordingLogger } from '@spotjobs/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildEngineError } from '../src/executor/build-engine-error.ts';
import type { BuildLogLine, BuildRequest } from '../src/executor/build-executor.ts';
import {
  type BuildSandbox,
  type RunBuildOptions,
  runBuild,
  type SandboxContext,
} from '../src/executor/run-build.ts';
import { FAKE_IMAGE, FakeSandbox } from './support/executor-fakes.ts';

let workDir: string;
let clock: ManualClock;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'executor-run-build-'));
  clock = new ManualClock();
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function options(
  sandbox: FakeSandbox | ((context: SandboxContext) => Promise<BuildSandbox>),
  more: Partial<RunBuildOptions> = {},
): RunBuildOptions {
  return {
    workDir,
    timeoutMs: 60_000,
    clock,
    logger: recordingLogger(),
    openSandbox: typeof sandbox === 'function' ? sandbox : async (context) => sandbox.open(context),
    ...more,
  };
}

function request(more: Partial<BuildRequest> = {}): BuildRequest {
  return {
    cpv: 'app-misc/x-1.0',
    use: ['a', '-b'],
    jobId: 'job-1',
    signal: new AbortController().signal,
    ...more,
  };
}

describe('runBuild', () => {
  it('succeeds on exit codes 0 whatever stderr says, and returns the hashed artifact and the stored log', async () => {
    const content = Buffer.from('a binary package');
    const sandbox = new FakeSandbox(
      { deps: { exit: 0, stdout: 'deps out\n' }, package: { exit: 0, stderr: ' * QA Notice: warning\n' } },
      [{ path: 'app-misc/x-1.0.tbz2', content }],
    );
    const lines: BuildLogLine[] = [];

    const result = await runBuild(request({ onLog: (l) => lines.push(l) }), options(sandbox));

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.artifact).toEqual({
      path: join(result.workDir, 'x-1.0.tbz2'),
      fileName: 'x-1.0.tbz2',
      sha256: createHash('sha256').update(content).digest('hex'),
      size: content.length,
    });
    expect(await readFile(result.artifact.path)).toEqual(content);
    expect(lines).toEqual([
      { step: 'deps', stream: 'stdout', line: 'deps out' },
      { step: 'package', stream: 'stderr', line: ' * QA Notice: warning' },
    ]);
    const stored = await readFile(result.log.path, 'utf8');
    expect(stored).toContain('deps out\n');
    expect(stored).toContain(
      '>>> spotjobs: step package: ["emerge","--buildpkgonly","=app-misc/x-1.0"] with USE="a -b" PKGDIR="/fake/out"',
    );
    expect(sandbox.steps.map((s) => s.env.USE)).toEqual(['a -b', 'a -b']);
    expect(sandbox.calls).toEqual(['dispose']);
    expect((await readdir(result.workDir)).sort()).toEqual(['build.log', 'x-1.0.tbz2']);
    expect(result.image).toEqual(FAKE_IMAGE);
    await result.removed;
    expect(sandbox.disposed).toBe(true);
  });

  it('resolves without waiting for the sandbox to go, and settles removed once it has', async () => {
    const sandbox = new FakeSandbox({}, undefined, { holdDispose: true });

    const result = await runBuild(request(), options(sandbox));
    let removed = false;
    const removing = result.removed.then(() => {
      removed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));

    expect(result.ok).toBe(true);
    expect(sandbox.calls).toEqual(['dispose']);
    expect(removed).toBe(false);
    sandbox.finishDispose();
    await removing;
    expect(sandbox.disposed).toBe(true);
  });

  it('settles removed, without rejecting, when the sandbox fails to go', async () => {
    const logger = recordingLogger();
    const sandbox = new FakeSandbox();
    sandbox.dispose = async () => {
      throw new Error('engine gone');
    };

    const result = await runBuild(request(), options(sandbox, { logger }));

    await expect(result.removed).resolves.toBeUndefined();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'releasing the build sandbox failed' }),
    );
  });

  it('takes only regular files as the binary package: a symbolic link in the output directory is ignored', async () => {
    const secret = join(workDir, 'host-secret');
    await writeFile(secret, 'not for the build');
    const sandbox = new FakeSandbox({}, []);
    const open = async (context: SandboxContext) => {
      await mkdir(join(context.outputDir, 'app-misc'));
      await symlink(secret, join(context.outputDir, 'app-misc/x-1.0.tbz2'));
      return sandbox.open(context);
    };

    const result = await runBuild(request(), options(open));

    expect(result).toMatchObject({ ok: false, reason: 'no-artifact' });
    expect(await readdir(result.workDir)).toEqual(['build.log']);
  });

  it('stops at a failing deps step with its exit code', async () => {
    const sandbox = new FakeSandbox({ deps: { exit: 1, stderr: 'emerge: there are no ebuilds\n' } });

    const result = await runBuild(request(), options(sandbox));

    expect(result).toMatchObject({
      ok: false,
      reason: 'deps-failed',
      exitCode: 1,
      message: 'emerge deps step exited 1',
    });
    expect(result.log.tail).toContain('emerge: there are no ebuilds');
    expect(sandbox.steps.map((s) => s.name)).toEqual(['deps']);
    expect(sandbox.calls).toEqual(['dispose']);
  });

  it('fails a package step that ended without an exit code (killed under it), even with silent stderr', async () => {
    const result = await runBuild(request(), options(new FakeSandbox({ package: { exit: null } })));

    expect(result).toMatchObject({ ok: false, reason: 'package-failed', exitCode: null });
  });

  it.each([
    ['none', []],
    [
      'two',
      [
        { path: 'app-misc/x-1.0.tbz2', content: Buffer.from('a') },
        { path: 'app-misc/x-1.0.gpkg.tar', content: Buffer.from('b') },
      ],
    ],
  ])(
    'fails with no-artifact when %s binary packages appear, leaving no artifact file',
    async (_name, binpkgs) => {
      const result = await runBuild(request(), options(new FakeSandbox({}, binpkgs)));

      expect(result).toMatchObject({ ok: false, reason: 'no-artifact', exitCode: null });
      expect(await readdir(result.workDir)).toEqual(['build.log']);
    },
  );

  it('kills the build when the wall-clock limit passes and reports a timeout', async () => {
    const sandbox = new FakeSandbox({ package: { exit: 'hang' } });
    const building = runBuild(request(), options(sandbox, { timeoutMs: 5000 }));
    await sandbox.started('package');

    await clock.advance(4999);
    expect(sandbox.calls).toEqual([]);
    await clock.advance(1);

    const result = await building;
    expect(result).toMatchObject({ ok: false, reason: 'timeout', exitCode: null });
    expect(result.log.tail).toContain('>>> spotjobs: wall-clock limit of 5000 ms reached: killing the build');
    expect(sandbox.calls).toEqual(['kill', 'dispose']);
    await result.removed;
    expect(sandbox.disposed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops the build on abort, removes the work directory and rejects with the reason as cause', async () => {
    const sandbox = new FakeSandbox({ deps: { exit: 'hang' } });
    const abort = new AbortController();
    const building = runBuild(request({ signal: abort.signal }), options(sandbox)).catch((e: unknown) => e);
    await sandbox.started('deps');

    abort.abort(new Error('spot terminate notice'));

    const err = await building;
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).cause).toEqual(new Error('spot terminate notice'));
    expect(sandbox.calls).toEqual(['stop', 'dispose']);
    expect(sandbox.steps.map((s) => s.name)).toEqual(['deps']);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('rejects an aborted build only once its sandbox is gone', async () => {
    const sandbox = new FakeSandbox({ deps: { exit: 'hang' } }, undefined, { holdDispose: true });
    const abort = new AbortController();
    let settled = false;
    const building = runBuild(request({ signal: abort.signal }), options(sandbox))
      .catch((e: unknown) => e)
      .finally(() => {
        settled = true;
      });
    await sandbox.started('deps');

    abort.abort();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sandbox.calls).toEqual(['stop', 'dispose']);
    expect(settled).toBe(false);
    sandbox.finishDispose();

    expect(await building).toBeInstanceOf(AbortedError);
    expect(sandbox.disposed).toBe(true);
  });

  it('disposes a sandbox that opens after the abort', async () => {
    const sandbox = new FakeSandbox();
    const abort = new AbortController();
    const { promise: opening, resolve: openingCalled } = Promise.withResolvers<() => void>();
    const open = () => new Promise<BuildSandbox>((resolve) => openingCalled(() => resolve(sandbox)));
    const building = runBuild(request({ signal: abort.signal }), options(open)).catch((e: unknown) => e);
    const finishOpening = await opening;

    abort.abort();
    finishOpening();

    expect(await building).toBeInstanceOf(AbortedError);
    expect(sandbox.steps).toEqual([]);
    expect(sandbox.calls).toEqual(['dispose']);
  });

  it('passes engine failures on and removes the work directory', async () => {
    const failure = new BuildEngineError('image', 'pulling image x: manifest unknown');

    const err = await runBuild(
      request(),
      options(() => Promise.reject(failure)),
    ).catch((e: unknown) => e);

    expect(err).toBe(failure);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('keeps building when onLog throws, and says so once', async () => {
    const logger = recordingLogger();
    const sandbox = new FakeSandbox({ deps: { exit: 0, stdout: 'one\ntwo\n' } });

    const result = await runBuild(
      request({
        onLog: () => {
          throw new Error('broken callback');
        },
      }),
      options(sandbox, { logger }),
    );

    expect(result.ok).toBe(true);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'two',
        jobId: 'job-1',
        step: 'deps',
        stream: 'stdout',
      }),
    );
  });

  it('refuses malformed requests before opening anything', async () => {
    let opened = 0;
    const open = async () => {
      opened++;
      return new FakeSandbox();
    };

    await expect(runBuild(request({ cpv: 'app-misc/x-1.0 --root=/' }), options(open))).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(runBuild(request({ use: ['a b'] }), options(open))).rejects.toBeInstanceOf(ValidationError);
    await expect(runBuild(request({ jobId: '../escape' }), options(open))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(opened).toBe(0);
    expect(await readdir(workDir)).toEqual([]);
  });
});
