import { RunnerExitCodes } from './exit-codes.ts';

/**
 * The runner's own failures. Each has a stable `code` and the process exit code it leads to,
 * so the entrypoint turns any of them into a clear log line and the right exit status.
 *
 * @example
 * ```ts
 * try { await stageInputs(plan, deps, signal); }
 * catch (err) { if (err instanceof RunnerError) process.exitCode = err.exitCode; throw err; }
 * ```
 */
export abstract class RunnerError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An input was refused before any byte was used: bad key, outside the job's prefixes, too large, unsafe archive. */
export class InputRefusedError extends RunnerError {
  readonly code = 'INPUT_REFUSED';
  readonly exitCode = RunnerExitCodes.badInput;
  /** The input (an `s3://` URI or an archive entry) that was refused. */
  readonly input: string;
  constructor(input: string, reason: string, options?: { cause?: unknown }) {
    super(`input ${input} refused: ${reason}`, options);
    this.input = input;
  }
}

/** Reading inputs from S3 or writing outputs to it failed. */
export class StorageError extends RunnerError {
  readonly code = 'STORAGE';
  readonly exitCode = RunnerExitCodes.storage;
}

/** Multi-node rendezvous failed: a node never joined, a node reported a failure, the main node vanished. */
export class RendezvousError extends RunnerError {
  readonly code = 'RENDEZVOUS';
  readonly exitCode = RunnerExitCodes.nodesUnavailable;
  /** Node indexes that never joined, when that is the reason. */
  readonly missingNodes: readonly number[];
  constructor(message: string, options: { missingNodes?: readonly number[]; cause?: unknown } = {}) {
    super(message, options);
    this.missingNodes = options.missingNodes ?? [];
  }
}

/** A secret reference could not be resolved (missing, access denied, malformed value). */
export class SecretResolutionError extends RunnerError {
  readonly code = 'SECRET_RESOLUTION';
  readonly exitCode = RunnerExitCodes.badConfig;
  /** The environment variable holding the reference (never the secret). */
  readonly variable: string;
  constructor(variable: string, reason: string, options?: { cause?: unknown }) {
    super(`${variable}: ${reason}`, options);
    this.variable = variable;
  }
}

/** APP_BIN (or the launcher) could not be started: not found (127) or not executable (126). */
export class AppLaunchError extends RunnerError {
  readonly code = 'APP_LAUNCH';
  readonly exitCode: number;
  readonly program: string;
  constructor(program: string, errno: string | undefined, options?: { cause?: unknown }) {
    const notFound = errno === 'ENOENT';
    super(
      `cannot run ${program}: ${notFound ? 'not found' : `not executable (${errno ?? 'unknown error'})`}`,
      options,
    );
    this.program = program;
    this.exitCode = notFound ? RunnerExitCodes.appNotFound : RunnerExitCodes.appNotExecutable;
  }
}
