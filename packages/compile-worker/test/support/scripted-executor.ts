// A BuildExecutor for the daemon's unit tests: each build does what the test scripts (a verdict,
// a machine fault, or hanging until aborted), writing a real log and binary package into a real
// work directory, so uploads and clean-up run for real.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError } from '@spotjobs/core';
import { BuildEngineError } from '../../src/executor/build-engine-error.ts';
import type { BuildExecutor, BuildRequest, BuildResult } from '../../src/executor/build-executor.ts';

export type BuildScript =
  | { readonly kind: 'ready'; readonly bytes?: Buffer }
  /** Ready once `gate` settles (unless aborted first). */
  | { readonly kind: 'ready-after'; readonly gate: Promise<void> }
  | { readonly kind: 'failed' }
  | { readonly kind: 'engine-fault' }
  /** Runs until its signal aborts, then rejects AbortedError (as the real executors do). */
  | { readonly kind: 'hang' };

export class ScriptedExecutor implements BuildExecutor {
  readonly kind = 'process';
  readonly requests: BuildRequest[] = [];
  readonly workDirs: string[] = [];
  /** The image every build reports having run on. */
  image = { id: 'sha256:scripted', repoDigests: [] as string[] };
  #waiters: (() => void)[] = [];
  readonly #root: string;
  readonly #script: (request: BuildRequest) => BuildScript;

  constructor(root: string, script: (request: BuildRequest) => BuildScript) {
    this.#root = root;
    this.#script = script;
  }

  /** Resolves once a build has started. */
  started(): Promise<void> {
    if (this.requests.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    this.requests.push(request);
    for (const wake of this.#waiters.splice(0)) wake();
    const script = this.#script(request);
    const workDir = join(this.#root, `${request.jobId}-${this.requests.length}`);
    await mkdir(workDir, { recursive: true });
    this.workDirs.push(workDir);
    const logPath = join(workDir, 'build.log');
    const lines = [`>>> Emerging (1 of 1) ${request.cpv}`, `USE=${request.use.join(' ')}`];
    for (const line of lines) request.onLog?.({ step: 'package', stream: 'stdout', line });
    await writeFile(logPath, `${lines.join('\n')}\n`);
    const log = { path: logPath, size: 0, tail: lines };
    const durations = { prepareMs: 0, depsMs: 0, packageMs: 0, collectMs: 0, totalMs: 0 };
    const image = this.image;
    if (script.kind === 'ready-after') {
      await Promise.race([script.gate, aborted(request.signal)]);
      if (request.signal.aborted) throw new AbortedError({ cause: request.signal.reason });
    }
    switch (script.kind) {
      case 'hang':
        await aborted(request.signal);
        throw new AbortedError({ cause: request.signal.reason });
      case 'engine-fault':
        throw new BuildEngineError('container', 'the engine went away (scripted)');
      case 'failed':
        return {
          ok: false,
          reason: 'package-failed',
          message: 'emerge package step exited 3',
          exitCode: 3,
          log,
          durations,
          workDir,
          image,
          removed: Promise.resolve(),
        };
      case 'ready':
      case 'ready-after': {
        const bytes =
          (script.kind === 'ready' ? script.bytes : undefined) ??
          Buffer.from(`binary package of ${request.cpv}`);
        const fileName = `${request.cpv.split('/')[1]}.gpkg.tar`;
        const path = join(workDir, fileName);
        await writeFile(path, bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        return {
          ok: true,
          artifact: { path, fileName, sha256, size: bytes.length },
          log,
          durations,
          workDir,
          image,
          removed: Promise.resolve(),
        };
      }
    }
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
