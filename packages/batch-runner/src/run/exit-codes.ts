/**
 * The exit codes of `spotjobs-batch-runner`, so AWS Batch retry rules (`evaluateOnExit`,
 * `onExitCode`) can tell a failed application from a failed run around it.
 *
 * - The application's own code (0–125) passes through unchanged; an application killed by a
 *   signal gives 128 + the signal number, as a shell reports it.
 * - The runner's own failures use the sysexits numbers (64–78), which applications rarely use,
 *   plus 126/127 as a shell uses them for a program it cannot run.
 * - SIGTERM (Batch termination, job timeout, `TerminateJob`) gives `terminated` (143 unless
 *   configured), after the partial outputs and `time.log` were uploaded.
 *
 * @example
 * ```ts
 * // A Batch retry rule: retry runs cut short by SIGTERM or a lost node, not failed apps.
 * // {"evaluateOnExit": [{"onExitCode": "143", "action": "RETRY"}, {"onExitCode": "69", "action": "RETRY"}, {"onReason": "*", "action": "EXIT"}]}
 * process.exitCode = RunnerExitCodes.badConfig;
 * ```
 */
export const RunnerExitCodes = {
  ok: 0,
  /** EX_DATAERR: an input was refused (bad key, outside the job's prefixes, too large, bad archive). */
  badInput: 65,
  /** EX_UNAVAILABLE: multi-node rendezvous failed (a node never joined, the main node vanished). */
  nodesUnavailable: 69,
  /** EX_SOFTWARE: the runner itself failed unexpectedly. */
  internal: 70,
  /** EX_IOERR: staging from or uploading to S3 failed. */
  storage: 74,
  /** EX_CONFIG: the environment is invalid (or a secret reference does not resolve). */
  badConfig: 78,
  /** APP_BIN exists but cannot be executed (as a shell reports it). */
  appNotExecutable: 126,
  /** APP_BIN was not found (as a shell reports it). */
  appNotFound: 127,
  /** Default for a run stopped by SIGTERM: 128 + 15, what Batch sees from a process killed by it. */
  terminated: 143,
} as const;

export type RunnerExitCode = (typeof RunnerExitCodes)[keyof typeof RunnerExitCodes];
