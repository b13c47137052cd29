import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, type Clock, isAbortError, type Logger, throwIfAborted } from '@spotjobs/core';
import { collectBinpkg } from './binpkg-collector.ts';
import type {
  BuildArtifact,
  BuildDurations,
  BuildFailureReason,
  BuildImage,
  BuildRequest,
  BuildResult,
  BuildStepName,
} from './build-executor.ts';
import { BuildLogRecorder } from './build-log-recorder.ts';
import { type BuildStep, buildSteps } from './build-steps.ts';
import { assertJobId, assertUseFlags, type BuildTarget, parseBuildTarget } from './build-target.ts';

/**
 * One job's isolated place to run the steps: a container, or a process group with its own
 * output directory. `runBuild` holds the shared logic (log, limits, verdicts, cleanup); each
 * executor implements only these hooks.
 */
export interface BuildSandbox {
  /** Where the `--buildpkgonly` step writes (its `PKGDIR`), as seen by the steps: `outputDir` of the context, or where it is mounted. */
  readonly outputPkgdir: string;
  /** What the steps run on. */
  readonly image: BuildImage;
  /**
   * Runs one step to its end and resolves its exit code (`null` when it had none, e.g. killed).
   * Output goes to `output` as it arrives.
   */
  run(
    step: BuildStep,
    output: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void,
  ): Promise<number | null>;
  /** Ends every process of the build at once (the wall-clock limit passed). */
  kill(): Promise<void>;
  /** Stops the build with a short grace period (the caller aborted). */
  stop(): Promise<void>;
  /**
   * Releases everything it holds; called exactly once, whatever happened, even after kill or
   * stop. After a verdict it runs in the background (the result's `removed`); after an abort or
   * an engine failure, before the build rejects.
   */
  dispose(): Promise<void>;
}

export interface SandboxContext {
  readonly target: BuildTarget;
  readonly jobId: string;
  /** The job's work directory on this host (the log and the artifact end up here). */
  readonly jobDir: string;
  /**
   * An empty directory in `jobDir` on this host: the `--buildpkgonly` step's PKGDIR (mounted
   * into a container, or used as is). The binary package is read from it here, so nothing has
   * to be copied out of a sandbox; it is removed before the build resolves.
   */
  readonly outputDir: string;
  readonly log: BuildLogRecorder;
  readonly signal: AbortSignal;
}

export interface RunBuildOptions {
  /** Parent of the per-job work directories. */
  readonly workDir: string;
  /** Wall-clock limit from the sandbox being ready to the artifact being copied out. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  openSandbox(context: SandboxContext): Promise<BuildSandbox>;
}

type Verdict =
  | { readonly ok: true; readonly artifact: BuildArtifact }
  | {
      readonly ok: false;
      readonly reason: BuildFailureReason;
      readonly message: string;
      readonly exitCode: number | null;
    };

/**
 * The build both executors share:
 *
 * ```
 * validate -> work dir -> openSandbox ----> deps step -> package step -> collect -> result
 *                         (prepare)     |<------------ timeoutMs ------------->|
 *                                                           \-> dispose, in the background (`removed`)
 * abort at any point: sandbox.stop() -> dispose -> work dir removed -> AbortedError
 * timeout:            sandbox.kill() -> { ok: false, reason: 'timeout' }, dispose in the background
 * ```
 *
 * Neither the collection nor the result waits for the sandbox to go: once the package step has
 * ended nothing in it is needed (the binary package is in a host directory), and removing a
 * container costs tens of ms that overlap the hashing, and the caller's upload. The caller gets
 * `removed` to wait on.
 *
 * Success is decided only by exit codes and by exactly one binary package appearing; output on
 * stderr means nothing by itself (Portage warns there on good builds).
 */
export async function runBuild(request: BuildRequest, options: RunBuildOptions): Promise<BuildResult> {
  const { signal } = request;
  const { clock } = options;
  const target = parseBuildTarget(request.cpv);
  assertUseFlags(request.use);
  assertJobId(request.jobId);
  throwIfAborted(signal);

  const started = clock.monotonic();
  const stepMs: Record<BuildStepName, number> = { deps: 0, package: 0 };
  let prepareMs = 0;
  let collectMs = 0;
  await mkdir(options.workDir, { recursive: true });
  const jobDir = await mkdtemp(join(options.workDir, `${request.jobId}-`));
  const outputDir = join(jobDir, 'binpkg-out');
  await mkdir(outputDir);
  const logger = options.logger.child({ jobId: request.jobId, cpv: request.cpv });
  const log = new BuildLogRecorder(join(jobDir, 'build.log'), logger, request.onLog);

  let sandbox: BuildSandbox | undefined;
  let timedOut = false;
  const quietly = (what: string, action: (() => Promise<void>) | undefined) => {
    action?.().catch((err: unknown) => logger.warn({ err }, `${what} failed`));
  };
  let removed: Promise<void> | undefined;
  // Starts releasing the sandbox, once; the promise settles when it is gone and never rejects.
  const release = (): Promise<void> => {
    if (!removed && sandbox) {
      removed = sandbox
        .dispose()
        .catch((err: unknown) => logger.warn({ err }, 'releasing the build sandbox failed'));
    }
    return removed ?? Promise.resolve();
  };
  const onAbort = () => {
    if (!removed) quietly('stopping the build', sandbox && (() => sandbox!.stop()));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: { cancel(): void } | undefined;

  const execute = async (): Promise<Verdict> => {
    log.note(`building =${target.cpv} with USE="${request.use.join(' ')}" (job ${request.jobId})`);
    const prepareStart = clock.monotonic();
    sandbox = await options.openSandbox({ target, jobId: request.jobId, jobDir, outputDir, log, signal });
    prepareMs = clock.monotonic() - prepareStart;
    throwIfAborted(signal);
    const ready = sandbox;
    timer = clock.setTimer(options.timeoutMs, () => {
      timedOut = true;
      log.note(`wall-clock limit of ${options.timeoutMs} ms reached: killing the build`);
      quietly('killing the build', () => ready.kill());
    });

    for (const step of buildSteps(target, request.use, ready.outputPkgdir)) {
      const env = Object.entries(step.env).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
      log.note(`step ${step.name}: ${JSON.stringify(step.argv)} with ${env.join(' ')}`);
      const stepStart = clock.monotonic();
      const out = log.splitter(step.name, 'stdout');
      const err = log.splitter(step.name, 'stderr');
      const exitCode = await ready.run(step, (stream, chunk) =>
        (stream === 'stderr' ? err : out).push(chunk),
      );
      out.end();
      err.end();
      stepMs[step.name] = clock.monotonic() - stepStart;
      throwIfAborted(signal);
      if (timedOut) return timeoutVerdict(options.timeoutMs);
      log.note(
        `step ${step.name} exited ${exitCode ?? 'without a status'} after ${Math.round(stepMs[step.name])} ms`,
      );
      if (exitCode !== 0) {
        const reason = step.name === 'deps' ? 'deps-failed' : 'package-failed';
        return {
          ok: false,
          reason,
          exitCode,
          message: `emerge ${step.name} step exited ${exitCode ?? 'without a status'}`,
        };
      }
    }

    void release();
    const collectStart = clock.monotonic();
    const { found, artifact } = await collectBinpkg(outputDir, target, jobDir, signal);
    collectMs = clock.monotonic() - collectStart;
    throwIfAborted(signal);
    if (timedOut) return timeoutVerdict(options.timeoutMs);
    if (found !== 1 || !artifact) {
      const message = `expected one binary package of ${target.cpv} in PKGDIR, found ${found}`;
      log.note(message);
      return { ok: false, reason: 'no-artifact', exitCode: null, message };
    }
    log.note(`binary package ${artifact.fileName}: ${artifact.size} bytes, sha256 ${artifact.sha256}`);
    return { ok: true, artifact };
  };

  let verdict: Verdict | undefined;
  let failure: unknown;
  try {
    verdict = await execute();
  } catch (err) {
    // After a kill, the engine's calls fail in many ways (exec on a stopped container...).
    if (timedOut && !signal.aborted) verdict = timeoutVerdict(options.timeoutMs);
    else failure = err;
  } finally {
    timer?.cancel();
    signal.removeEventListener('abort', onAbort);
    void release();
  }

  if (failure !== undefined || !verdict || !sandbox) {
    // Nothing of an aborted or broken build may outlive the rejection.
    await release();
    await log.close().catch(() => {});
    await rm(jobDir, { recursive: true, force: true });
    if (signal.aborted || isAbortError(failure)) throw new AbortedError({ cause: signal.reason ?? failure });
    throw failure;
  }
  // The package step is over: what is left in its PKGDIR (a failed build's pieces, a second
  // package) goes, and only the log and the artifact stay in the work directory. A directory
  // the container's root made that this process may not remove is not worth failing the build.
  await rm(outputDir, { recursive: true, force: true }).catch((err: unknown) =>
    logger.warn({ err }, 'removing the output directory failed'),
  );
  const stored = await log.close();
  const durations: BuildDurations = {
    prepareMs: Math.round(prepareMs),
    depsMs: Math.round(stepMs.deps),
    packageMs: Math.round(stepMs.package),
    collectMs: Math.round(collectMs),
    totalMs: Math.round(clock.monotonic() - started),
  };
  return { ...verdict, log: stored, durations, workDir: jobDir, image: sandbox.image, removed: release() };
}

function timeoutVerdict(timeoutMs: number): Verdict {
  return {
    ok: false,
    reason: 'timeout',
    exitCode: null,
    message: `build exceeded its wall-clock limit of ${timeoutMs} ms`,
  };
}
