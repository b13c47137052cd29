import { AbortedError, isAbortError } from '@spotjobs/core';
import type { BuildView } from './api-schemas.ts';
import { CliError, CliUsageError, CompileApiError } from './cli-errors.ts';
import { CliExitCode, type CliExitCodeValue } from './exit-codes.ts';
import type { ProgressReporter } from './progress-reporter.ts';
import type { RequestOutcome } from './request-command.ts';
import { formatBytes, printable } from './terminal-text.ts';

/** Where the results go: the human summary on stderr, the result (path, link or JSON) on stdout. */
export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const PREFIX = 'spotjobs-compile:';

/**
 * Prints how a request ended and answers its exit code: stdout gets the file's path (or the
 * artifact link with `--no-download`), or with `--json` one JSON object; stderr gets the human
 * summary (a failure's reason, log link and last log lines).
 *
 * @example
 * ```ts
 * return reportRequestOutcome(outcome, { json, quiet, elapsedMs }, streams, progress);
 * ```
 */
export function reportRequestOutcome(
  outcome: RequestOutcome,
  options: { readonly json: boolean; readonly quiet: boolean; readonly elapsedMs: number },
  streams: CliStreams,
  progress: ProgressReporter,
): CliExitCodeValue {
  progress.finish();
  const { build } = outcome;
  const common = {
    buildId: build.id,
    state: build.state,
    atom: build.atom,
    use: build.use,
    created: outcome.created,
    elapsedSeconds: Math.round(options.elapsedMs / 100) / 10,
  };
  if (outcome.kind === 'failed') {
    const reason = build.error?.message ?? 'build failed';
    const lines = [`${PREFIX} build ${build.id} failed: ${indent(printable(reason))}`];
    if (build.retryAfter) lines.push(`  it may be requested again from ${build.retryAfter}`);
    lines.push(outcome.logUrl ? `  log: ${outcome.logUrl}` : '  no log was recorded');
    if (outcome.logTail && outcome.logTail.length > 0) {
      lines.push(`  last ${outcome.logTail.length} lines of the log:`);
      for (const line of outcome.logTail) lines.push(`  | ${line}`);
    } else if (outcome.logUrl) lines.push('  (the log could not be read)');
    streams.stderr.write(`${lines.join('\n')}\n`);
    if (options.json)
      writeJson(streams, {
        ok: false,
        exitCode: CliExitCode.buildFailed,
        ...common,
        reason,
        retryAfter: build.retryAfter,
        logUrl: outcome.logUrl ?? null,
        logTail: outcome.logTail ?? null,
      });
    return CliExitCode.buildFailed;
  }
  const { link, file } = outcome;
  if (!options.quiet) {
    streams.stderr.write(
      file
        ? `saved ${file.path} (${formatBytes(file.size)}, sha256 ${file.sha256} verified)\n`
        : `ready; artifact link valid until ${link.expiresAt} (sha256 ${link.sha256}, ${formatBytes(link.size)})\n`,
    );
  }
  if (options.json)
    writeJson(streams, {
      ok: true,
      exitCode: CliExitCode.ok,
      ...common,
      cached: outcome.cached,
      file: file?.path ?? null,
      url: file ? null : link.url,
      sha256: link.sha256,
      size: link.size,
    });
  else streams.stdout.write(`${file ? file.path : link.url}\n`);
  return CliExitCode.ok;
}

/**
 * Prints a build for `status`: a summary on stdout, or the build's JSON with `--json`.
 *
 * @example
 * ```ts
 * return reportStatus(build, { json: false }, streams);
 * ```
 */
export function reportStatus(
  build: BuildView,
  options: { readonly json: boolean },
  streams: CliStreams,
): CliExitCodeValue {
  if (options.json) {
    writeJson(streams, { ok: true, exitCode: CliExitCode.ok, build });
    return CliExitCode.ok;
  }
  const lines = [
    `build      ${build.id}`,
    `atom       ${printable(build.atom)}`,
    `USE        ${printable(build.use.join(' ')) || '(none)'}`,
    `state      ${build.state}`,
    `attempts   ${build.attempts} (generation ${build.generation})`,
    `updated    ${build.updatedAt}`,
  ];
  if (build.workerId) lines.push(`worker     ${printable(build.workerId)}`);
  if (build.artifact) lines.push(`artifact   sha256 ${build.artifact.sha256}, ${build.artifact.size} bytes`);
  if (build.error) lines.push(`error      ${indent(printable(build.error.message), 11)}`);
  if (build.retryAfter) lines.push(`retry from ${build.retryAfter}`);
  streams.stdout.write(`${lines.join('\n')}\n`);
  return CliExitCode.ok;
}

/**
 * Prints an error (every problem of a usage error on its own line, a hint for a refused key)
 * and answers its exit code: the `CliError`'s own, 130 for an abort, 70 for anything
 * unexpected (a bug).
 *
 * @example
 * ```ts
 * return reportError(err, { json }, streams);
 * ```
 */
export function reportError(
  err: unknown,
  options: { readonly json: boolean },
  streams: CliStreams,
): CliExitCodeValue {
  let exitCode: CliExitCodeValue;
  let code: string;
  let text: string;
  let problems: readonly string[] | undefined;
  if (err instanceof AbortedError || isAbortError(err)) {
    exitCode = CliExitCode.interrupted;
    code = 'INTERRUPTED';
    text = `${PREFIX} interrupted; no partial download was left (a submitted build goes on on the farm)`;
  } else if (err instanceof CliUsageError) {
    exitCode = err.exitCode;
    code = err.code;
    problems = err.problems;
    text = [
      `${PREFIX} nothing was sent:`,
      ...err.problems.map((p) => `  ${printable(p)}`),
      'Run "spotjobs-compile --help" for usage.',
    ].join('\n');
  } else if (err instanceof CompileApiError) {
    exitCode = err.exitCode;
    code = err.code;
    const answered = `${err.status} ${err.code}: ${printable(err.message)}`;
    text =
      err.status === 401
        ? `${PREFIX} the server refused the credentials (${answered}); check SPOTJOBS_COMPILE_API_KEY`
        : `${PREFIX} the server answered ${answered}`;
  } else if (err instanceof CliError) {
    exitCode = err.exitCode;
    code = err.code;
    text = `${PREFIX} ${printable(err.message)}`;
  } else {
    exitCode = CliExitCode.internal;
    code = 'INTERNAL';
    text = `${PREFIX} internal error: ${printable(err instanceof Error ? (err.stack ?? err.message) : String(err))}`;
  }
  streams.stderr.write(`${text}\n`);
  if (options.json) {
    const message = err instanceof Error ? err.message : String(err);
    writeJson(streams, {
      ok: false,
      exitCode,
      error: {
        code,
        message: exitCode === CliExitCode.interrupted ? 'interrupted' : message,
        ...(problems ? { problems } : {}),
      },
    });
  }
  return exitCode;
}

function writeJson(streams: CliStreams, value: object): void {
  streams.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Continuation lines of a multi-line text, indented under its first line. */
function indent(text: string, by = 2): string {
  return text.replaceAll('\n', `\n${' '.repeat(by)}`);
}
