import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AbortedError, type Clock, isAbortError, type Logger, throwIfAborted } from '@spotjobs/core';
import { writeArtifact } from './artifact-writer.ts';
import type {
  BuildArtifact,
  BuildDurations,
  BuildFailureReason,
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
  /** Where the `--buildpkgonly` step writes (its `PKGDIR`), as seen by the steps. */
  readonly outputPkgdir: string;
  /**
   * Runs one step to its end and resolves its exit code (`null` when it had none, e.g. killed).
   * Output goes to `output` as it arrives.
   */
  run(
    step: BuildStep,
    output: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void,
  ): Promise<number | null>;
  /** Streams every binary package of `target` found in `outputPkgdir` to `write`; resolves how many. */
  collect(target: BuildTarget, write: (source: Readable, fileName: string) => Promise<void>): Promise<number>;
  /** Ends every process of the build at once (the wall-clock limit passed). */
  kill(): Promise<void>;
  /** Stops the build with a short grace period (the caller aborted). */
  stop(): Promise<void>;
  /** Releases everything it holds; called exactly once, whatever happened, even after kill or stop. */
  dispose(): Promise<void>;
}

export interface SandboxContext {
  readonly target: BuildTarget;
  readonly jobId: string;
  /** The job's work directory on this host (the log and the artifact end up here). */
  readonly jobDir: string;
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
 * validate -> work dir -> openSandbox ----> deps step -> package step -> collect -> dispose
 *                         (prepare)     |<------------ timeoutMs ------------->|
 * abort at any point: sandbox.stop() -> dispose -> work dir removed -> AbortedError
 * timeout:            sandbox.kill() -> dispose -> { ok: false, reason: 'timeout' }
 * ```
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
  const logger = options.logger.child({ jobId: request.jobId, cpv: request.cpv });
  const log = new BuildLogRecorder(join(jobDir, 'build.log'), logger, request.onLog);

  let sandbox: BuildSandbox | undefined;
  let timedOut = false;
  const quietly = (what: string, action: (() => Promise<void>) | undefined) => {
    action?.().catch((err: unknown) => logger.warn({ err }, `${what} failed`));
  };
  const onAbort = () => quietly('stopping the build', sandbox && (() => sandbox!.stop()));
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: { cancel(): void } | undefined;

  const execute = async (): Promise<Verdict> => {
    log.note(`building =${target.cpv} with USE="${request.use.join(' ')}" (job ${request.jobId})`);
    const prepareStart = clock.monotonic();
    sandbox = await options.openSandbox({ target, jobId: request.jobId, jobDir, log, signal });
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

    const collectStart = clock.monotonic();
    let artifact: BuildArtifact | undefined;
    const found = await ready.collect(target, async (source, fileName) => {
      if (artifact) {
        source.resume();
        return;
      }
      artifact = await writeArtifact(source, jobDir, fileName, signal);
    });
    collectMs = clock.monotonic() - collectStart;
    throwIfAborted(signal);
    if (timedOut) return timeoutVerdict(options.timeoutMs);
    if (found !== 1 || !artifact) {
      if (artifact) await rm(artifact.path, { force: true });
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
    if (sandbox) {
      await sandbox
        .dispose()
        .catch((err: unknown) => logger.warn({ err }, 'releasing the build sandbox failed'));
    }
  }

  if (failure !== undefined || !verdict) {
    await log.close().catch(() => {});
    await rm(jobDir, { recursive: true, force: true });
    if (signal.aborted || isAbortError(failure)) throw new AbortedError({ cause: signal.reason ?? failure });
    throw failure;
  }
  const stored = await log.close();
  const durations: BuildDurations = {
    prepareMs: Math.round(prepareMs),
    depsMs: Math.round(stepMs.deps),
    packageMs: Math.round(stepMs.package),
    collectMs: Math.round(collectMs),
    totalMs: Math.round(clock.monotonic() - started),
  };
  return { ...verdict, log: stored, durations, workDir: jobDir };
}

function timeoutVerdict(timeoutMs: number): Verdict {
  return {
    ok: false,
    reason: 'timeout',
    exitCode: null,
    message: `build exceeded its wall-clock limit of ${timeoutMs} ms`,
  };
}
