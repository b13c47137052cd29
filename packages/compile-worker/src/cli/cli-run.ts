import { type Clock, systemClock } from '@spotjobs/core';
import { CompileApiClient } from './api-client.ts';
import { CLI_USAGE, type CliEnvironment, parseCli } from './cli-options.ts';
import { type CliStreams, reportError, reportRequestOutcome, reportStatus } from './cli-output.ts';
import type { CliExitCodeValue } from './exit-codes.ts';
import { CliExitCode } from './exit-codes.ts';
import { ProgressReporter, type ProgressStream } from './progress-reporter.ts';
import { runRequest } from './request-command.ts';
import { runStatus } from './status-command.ts';

/** Everything `spotjobs-compile` takes from its process, injectable so it runs in-process too. */
export interface CliContext {
  /** Arguments after the script name. */
  readonly argv: readonly string[];
  readonly env: CliEnvironment;
  readonly cwd: string;
  readonly stdout: CliStreams['stdout'];
  readonly stderr: ProgressStream;
  /** Aborts every request in flight and the download (SIGINT). */
  readonly signal: AbortSignal;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Per API call (default 30 s). */
  readonly requestTimeoutMs?: number;
}

/**
 * Runs one `spotjobs-compile` invocation and answers its exit code (see `CliExitCode`); never
 * rejects. `cli-main.ts` is the process wrapper around it.
 *
 * @example
 * ```ts
 * const code = await runCli({ argv: ['status', id], env: process.env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, signal });
 * ```
 */
export async function runCli(ctx: CliContext): Promise<CliExitCodeValue> {
  const clock = ctx.clock ?? systemClock;
  const streams = { stdout: ctx.stdout, stderr: ctx.stderr };
  // Known before parsing succeeds, so even a usage error ends with the JSON line.
  let json = ctx.argv.includes('--json');
  try {
    const command = parseCli(ctx.argv, ctx.env, ctx.cwd);
    if (command.command === 'help') {
      ctx.stdout.write(CLI_USAGE);
      return CliExitCode.ok;
    }
    json = command.json;
    const api = new CompileApiClient({
      baseUrl: command.baseUrl,
      apiKey: command.apiKey,
      ...(ctx.requestTimeoutMs ? { requestTimeoutMs: ctx.requestTimeoutMs } : {}),
      ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    });
    if (command.command === 'status') {
      if (command.apiKeySource === 'argv')
        ctx.stderr.write(
          'warning: --api-key is visible to other users in ps; prefer SPOTJOBS_COMPILE_API_KEY\n',
        );
      return reportStatus(await runStatus(command, { api, clock }, ctx.signal), command, streams);
    }
    const progress = new ProgressReporter({
      stream: ctx.stderr,
      quiet: command.quiet,
      monotonic: () => clock.monotonic(),
    });
    try {
      const outcome = await runRequest(
        command,
        { api, progress, clock, ...(ctx.fetch ? { fetch: ctx.fetch } : {}) },
        ctx.signal,
      );
      return reportRequestOutcome(
        outcome,
        { ...command, elapsedMs: progress.elapsedMs() },
        streams,
        progress,
      );
    } finally {
      progress.finish();
    }
  } catch (err) {
    return reportError(err, { json }, streams);
  }
}
