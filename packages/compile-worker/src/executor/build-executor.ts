/**
 * `BuildExecutor`: runs Pacloud's two emerge steps for one package version and hands back the
 * binary package, or the reason it could not. Two implementations share this contract:
 * `ContainerBuildExecutor` (a fresh Docker container per job) and `ProcessBuildExecutor` (child
 * processes on the host, for machines where no Docker Engine answers).
 *
 * Outcomes, and who decides what happens next:
 * - resolves `{ ok: true }`: both steps exited 0 and exactly one binary package was produced;
 * - resolves `{ ok: false }`: the *package* failed (a step's exit code, the wall-clock limit,
 *   no binary package): a verdict to record, with the log;
 * - either result carries `removed`: the build's container (or leftover processes) is released
 *   in the background so the verdict does not wait for it; await it before reporting the job
 *   done (the daemon does), so that no container outlives its job;
 * - rejects `AbortedError`: `signal` aborted (interruption, shutdown); the build was stopped and
 *   its work directory removed, nothing half-written is left: release the job;
 * - rejects `BuildEngineError`: the *machine* failed (engine unreachable, image missing, PKGDIR
 *   unreadable): retry, here or on another host;
 * - rejects `ValidationError`: the request itself is malformed (a programming error upstream).
 */
export interface BuildExecutor {
  /** Which implementation this is, for logs: `container` or `process`. */
  readonly kind: 'container' | 'process';
  build(request: BuildRequest): Promise<BuildResult>;
}

/** The two emerge steps, in order. */
export type BuildStepName = 'deps' | 'package';

export interface BuildRequest {
  /** `category/name-version`, e.g. `app-misc/ranger-1.8.1` (emerge gets `=<cpv>`). */
  readonly cpv: string;
  /** USE flags, already normalised by the caller (`-flag` disables); given to both steps as `USE`. */
  readonly use: readonly string[];
  /** Names the work directory and labels the container; `[A-Za-z0-9_.-]+`. */
  readonly jobId: string;
  readonly signal: AbortSignal;
  /** Called for every line of build output as it arrives (also written to the stored log). */
  readonly onLog?: (line: BuildLogLine) => void;
}

export interface BuildLogLine {
  readonly step: BuildStepName;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface BuildArtifact {
  /** Absolute path of the binary package, complete (written under a temporary name, then renamed). */
  readonly path: string;
  /** As Portage named it: `ranger-1.8.1.tbz2`, `ranger-1.8.1.gpkg.tar`, `ranger-1.8.1-1.gpkg.tar`. */
  readonly fileName: string;
  /** Lowercase hex SHA-256 of the file. */
  readonly sha256: string;
  readonly size: number;
}

/** The full build log, stored as a file next to the artifact. */
export interface BuildLog {
  readonly path: string;
  readonly size: number;
  /** The last lines (at most 50), for an error message without reading the file. */
  readonly tail: readonly string[];
}

/** Where the time went, in ms. Steps that did not run are 0. */
export interface BuildDurations {
  /** Image check or pull, PKGDIR lookup, container start (container executor). */
  readonly prepareMs: number;
  readonly depsMs: number;
  readonly packageMs: number;
  /** Finding the binary package in the job's output directory, hashing it and moving it to the work directory. */
  readonly collectMs: number;
  /** From the call to the result (`removed` may settle later). */
  readonly totalMs: number;
}

/**
 * The image a build ran on, so a caller can refuse to record a build under a profile that
 * pins another image. `ProcessBuildExecutor` builds on the host itself: `{ id: 'host', repoDigests: [] }`.
 */
export interface BuildImage {
  /** The engine's image id (`sha256:…`), or `host`. */
  readonly id: string;
  /** `repo@sha256:…` for each registry the image was pulled from or pushed to; empty for a local-only image. */
  readonly repoDigests: readonly string[];
}

/**
 * Why a package failed:
 * - `deps-failed`: the `--onlydeps` step exited non-zero;
 * - `package-failed`: the `--buildpkgonly` step exited non-zero;
 * - `timeout`: the wall-clock limit passed; the build was killed;
 * - `no-artifact`: both steps exited 0 but not exactly one binary package appeared.
 */
export type BuildFailureReason = 'deps-failed' | 'package-failed' | 'timeout' | 'no-artifact';

interface BuildOutcome {
  readonly log: BuildLog;
  readonly durations: BuildDurations;
  /** The job's work directory (holds the log and the artifact); the caller removes it when done. */
  readonly workDir: string;
  readonly image: BuildImage;
  /**
   * Settles once the build's container is removed (or its leftover processes are gone). Never
   * rejects: a removal that fails is logged (the maintenance task prunes what is left).
   */
  readonly removed: Promise<void>;
}

export interface BuildSuccess extends BuildOutcome {
  readonly ok: true;
  readonly artifact: BuildArtifact;
}

export interface BuildFailure extends BuildOutcome {
  readonly ok: false;
  readonly reason: BuildFailureReason;
  /** One line for people: which step, exit code or limit. */
  readonly message: string;
  /** The failing step's exit code; `null` when none applies (timeout, no artifact). */
  readonly exitCode: number | null;
}

export type BuildResult = BuildSuccess | BuildFailure;
