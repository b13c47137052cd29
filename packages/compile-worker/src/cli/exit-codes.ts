/**
 * Exit codes of `spotjobs-compile`, one per kind of outcome, so a script can tell "the package
 * does not build" (1) from "I typed it wrong" (2), "the service is unreachable" (3) and "the
 * download is not what the server recorded" (4).
 *
 * | code | meaning |
 * |---|---|
 * | 0 | the build is ready and its artifact was downloaded and verified (or not asked for) |
 * | 1 | the build failed (its reason, log link and last log lines are printed) |
 * | 2 | usage or validation error: nothing was sent |
 * | 3 | server or network error, a refused API key included |
 * | 4 | the downloaded bytes do not match the build's sha256 or size (nothing is left behind) |
 * | 5 | the build did not conclude within `--timeout` (it goes on on the farm) |
 * | 70 | internal error (a bug; the stack is printed) |
 * | 130 / 143 | interrupted by SIGINT / SIGTERM (requests aborted, partial download removed) |
 *
 * @example
 * ```ts
 * process.exitCode = CliExitCode.buildFailed;
 * ```
 */
export const CliExitCode = {
  ok: 0,
  buildFailed: 1,
  usage: 2,
  server: 3,
  mismatch: 4,
  timedOut: 5,
  /** A bug: an error the CLI does not know (sysexits' EX_SOFTWARE). */
  internal: 70,
  interrupted: 130,
  terminated: 143,
} as const;

export type CliExitCodeValue = (typeof CliExitCode)[keyof typeof CliExitCode];
