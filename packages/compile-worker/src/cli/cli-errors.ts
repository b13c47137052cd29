import { CliExitCode, type CliExitCodeValue } from './exit-codes.ts';

/**
 * The errors of `spotjobs-compile`: each carries a stable `code` (the `error.code` of the
 * `--json` line) and the exit code it ends the process with. Messages never hold the API key.
 *
 * @example
 * ```ts
 * throw new CliUsageError(['--poll-interval must be at least 0.2 seconds']);
 * ```
 */
export abstract class CliError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: CliExitCodeValue;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad arguments, options, environment or input grammar: exit 2, nothing was sent. */
export class CliUsageError extends CliError {
  readonly code = 'USAGE';
  readonly exitCode = CliExitCode.usage;
  /** Every problem found, one line each (`atom: …`, `use: …` in the server's own words). */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(problems.join('; ') || 'invalid usage', options);
    this.problems = problems;
  }
}

/**
 * The compile API answered an error (`{"error":{"code","message","field"}}`): exit 3. `transient`
 * when retrying later may help (429, 502, 503, 504).
 */
export class CompileApiError extends CliError {
  readonly code: string;
  readonly exitCode = CliExitCode.server;
  readonly status: number;
  readonly field: string | undefined;
  readonly transient: boolean;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    details: {
      readonly status: number;
      readonly code: string;
      readonly message: string;
      readonly field?: string | undefined;
      readonly retryAfterSeconds?: number | undefined;
    },
    options?: { cause?: unknown },
  ) {
    super(details.message, options);
    this.status = details.status;
    this.code = details.code;
    this.field = details.field;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.transient = [429, 502, 503, 504].includes(details.status);
  }
}

/** No answer: connection refused or reset, DNS, TLS, or no response within the request timeout: exit 3. */
export class ServerUnreachableError extends CliError {
  readonly code = 'UNREACHABLE';
  readonly exitCode = CliExitCode.server;
  readonly transient = true;
}

/** The server answered something that is not the API's shape (a proxy's page, a broken server): exit 3. */
export class InvalidServerResponseError extends CliError {
  readonly code = 'INVALID_RESPONSE';
  readonly exitCode = CliExitCode.server;
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message, options);
    this.issues = issues;
  }
}

/** The downloaded bytes are not what the build recorded: exit 4 (the partial file is removed). */
export class ArtifactMismatchError extends CliError {
  readonly code = 'ARTIFACT_MISMATCH';
  readonly exitCode = CliExitCode.mismatch;
  readonly expected: { readonly sha256: string; readonly size: number };
  /** What arrived: its size so far, and its sha256 when the whole body was read. */
  readonly actual: { readonly sha256?: string | undefined; readonly size: number };
  constructor(
    detail: string,
    expected: { readonly sha256: string; readonly size: number },
    actual: { readonly sha256?: string | undefined; readonly size: number },
    options?: { cause?: unknown },
  ) {
    super(`the downloaded artifact does not match the build record: ${detail}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

/** The build was still queued or building when `--timeout` ran out: exit 5 (it goes on on the farm). */
export class WaitTimeoutError extends CliError {
  readonly code = 'TIMED_OUT';
  readonly exitCode = CliExitCode.timedOut;
  readonly buildId: string;
  readonly state: string;
  constructor(buildId: string, state: string, timeoutSeconds: number, options?: { cause?: unknown }) {
    super(
      `build ${buildId} is still ${state} after ${timeoutSeconds} s; it goes on: ` +
        `run "spotjobs-compile status ${buildId}", or the same request again, later`,
      options,
    );
    this.buildId = buildId;
    this.state = state;
  }
}
